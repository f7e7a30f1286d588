#include "web/view.h"

#include <zlib.h>

#include <algorithm>
#include <kainjow/mustache.hpp>

#include "common/text.h"
#include "security/crypto.h"
#include "web/embedded.h"

namespace esar::web {
namespace {

using nlohmann::json;
namespace mustache = kainjow::mustache;

// Each value is built in its place and moved there, never copied: kainjow's set and push_back
// take a const reference and copy the whole subtree, so a value N levels deep was copied N times
// over. This conversion was 28% of an agency report's server time; built by moving, the report
// at 8,000 agencies took 8.6-8.8 ms of server CPU instead of 10.3-10.9 (issue 9).
mustache::data ToData(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      mustache::data out{mustache::data::type::object};
      for (const auto& [key, item] : value.items()) {
        out[key] = ToData(item);
        // Mustache cannot ask whether a list is empty without looping over it: every list
        // comes with has_<name>, true when it has items.
        if (item.is_array()) out["has_" + key] = mustache::data(!item.empty());
      }
      return out;
    }
    case json::value_t::array: {
      mustache::data out{mustache::data::type::list};
      // The list is out's own (not const; kainjow lends it only as const), filled by moving.
      // Reserved first: kainjow's move constructor is not noexcept, so a vector that grew would
      // copy what it holds.
      auto& items = const_cast<mustache::list&>(out.list_value());
      items.reserve(value.size());
      for (const auto& item : value) items.push_back(ToData(item));
      return out;
    }
    case json::value_t::string:
      return mustache::data(value.get_ref<const std::string&>());
    case json::value_t::boolean:
      return value.get<bool>() ? mustache::data(true) : mustache::data(false);
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return mustache::data(std::to_string(value.get<int64_t>()));
    case json::value_t::number_float:
      return mustache::data(ShortestDecimal(value.get<double>()));
    default:
      return mustache::data(false);
  }
}

// `source` with each partial tag ({{> part_x}}) replaced by that partial's own text, itself
// expanded (to a depth of 8: a partial that includes itself stops there). kainjow's renderer
// parses a partial again wherever it is met (a KPI's partial, once per KPI of a report), and
// gives a partial's text no treatment of its own (no standalone lines, no indentation), so
// the expanded page renders the same and is parsed once.
std::string ExpandPartials(const std::string& source,
                           const std::map<std::string, std::string>& templates, int depth = 0) {
  std::string out;
  out.reserve(source.size());
  size_t at = 0;
  while (true) {
    const size_t open = source.find("{{>", at);
    const size_t close = open == std::string::npos ? open : source.find("}}", open);
    if (close == std::string::npos) break;
    const std::string name = TrimSpaces(source.substr(open + 3, close - open - 3));
    const auto partial = templates.find(name);
    if (partial == templates.end() || depth >= 8) {
      out.append(source, at, close + 2 - at);  // left for the renderer (as it was)
    } else {
      out.append(source, at, open - at);
      out += ExpandPartials(partial->second, templates, depth + 1);
    }
    at = close + 2;
  }
  out.append(source, at, std::string::npos);
  return out;
}

std::string Gzip(std::string_view bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int done = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (done != Z_STREAM_END || out.size() >= bytes.size()) return "";
  return out;
}

std::string ContentTypeOf(const std::string& name) {
  auto ends = [&](const char* suffix) {
    const std::string s(suffix);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace

Views::Views() = default;
Views::~Views() = default;

Result<std::unique_ptr<const Views>> Views::Load() {
  auto views = std::make_unique<Views>();
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    const std::string name(file.name);
    if (name.rfind("templates/", 0) == 0 && name.size() > 19 &&
        name.compare(name.size() - 9, 9, ".mustache") == 0) {
      const std::string key = name.substr(10, name.size() - 19);
      std::string source(file.bytes);
      mustache::mustache parsed(source);
      if (!parsed.is_valid()) {
        return Status::Internal("template " + key + ": " + parsed.error_message());
      }
      views->templates_[key] = std::move(source);
    } else if (name == "templates/messages.json") {
      json catalog;
      try {
        catalog = json::parse(file.bytes);
      } catch (const json::exception& e) {
        return Status::Internal(std::string("templates/messages.json: ") + e.what());
      }
      for (const auto& [key, pair] : catalog.items()) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
          return Status::Internal("templates/messages.json: " + key + " must be [th, en]");
        views->messages_[key] = {pair[0].get<std::string>(), pair[1].get<std::string>()};
        // Nested by the dots of the key, so that templates can say {{t.nav.login}}.
        const json::json_pointer at("/" + [&] {
          std::string path = key;
          std::replace(path.begin(), path.end(), '.', '/');
          return path;
        }());
        try {
          views->messages_th_[at] = pair[0];
          views->messages_en_[at] = pair[1];
        } catch (const json::exception&) {
          return Status::Internal("templates/messages.json: " + key +
                                  " clashes with a shorter key");
        }
      }
    } else if (name.rfind("static/", 0) == 0) {
      const std::string key = name.substr(7);
      StaticAsset asset;
      asset.content_type = ContentTypeOf(key);
      asset.bytes = std::string(file.bytes);
      asset.gzipped = Gzip(asset.bytes);
      const std::string hash = security::Sha256Hex(asset.bytes).substr(0, 12);
      asset.etag = "\"" + hash + "\"";
      asset.url = "/static/" + key + "?v=" + hash;
      views->assets_[key] = std::move(asset);
    }
  }
  if (views->templates_.empty()) return Status::Internal("no templates were built in");
  for (const auto& [name, source] : views->templates_) {
    views->expanded_[name] = ExpandPartials(source, views->templates_);
  }
  for (const Lang lang : {Lang::kThai, Lang::kEnglish}) {
    auto shared = std::make_shared<mustache::data>(mustache::data::type::object);
    shared->set("t", ToData(lang == Lang::kThai ? views->messages_th_ : views->messages_en_));
    for (const auto& [partial_name, source] : views->templates_) {
      if (partial_name.rfind("part_", 0) != 0) continue;
      const std::string* text = &source;
      shared->set(partial_name, mustache::partial([text]() { return *text; }));
    }
    (lang == Lang::kThai ? views->shared_th_ : views->shared_en_) = std::move(shared);
  }
  return std::unique_ptr<const Views>(std::move(views));
}

std::string Views::Render(const std::string& name, const json& model, Lang lang) const {
  const auto found = expanded_.find(name);
  if (found == expanded_.end()) return "";
  // Parsed templates are kept and lent out, one render at a time each: kainjow's renderer keeps
  // state in the parsed tree, so one parsed copy cannot serve two renders at once, and parsing
  // a page (with a KPI's partial for each KPI) on every request cost a tenth of an agency
  // report's time. As many copies of a page are kept as were ever rendered at once.
  std::unique_ptr<mustache::mustache> page;
  {
    std::lock_guard<std::mutex> lock(parsed_mutex_);
    auto& idle = parsed_[name];
    if (!idle.empty()) {
      page = std::move(idle.back());
      idle.pop_back();
    }
  }
  if (!page) page = std::make_unique<mustache::mustache>(found->second);
  // The catalog is not copied: the page's own values are looked up first, then the language's
  // shared data, built once at start.
  const mustache::data values = ToData(model);
  mustache::context<std::string> context(lang == Lang::kThai ? shared_th_.get() : shared_en_.get());
  context.push(&values);
  std::string html = page->render(context);
  // The one state a render leaves in the tree is an error (a partial or lambda that failed),
  // after which it renders nothing: such a copy is dropped, not lent again.
  if (!page->is_valid()) return html;
  std::lock_guard<std::mutex> lock(parsed_mutex_);
  parsed_[name].push_back(std::move(page));
  return html;
}

const std::string& Views::Message(const std::string& key, Lang lang) const {
  const auto found = messages_.find(key);
  if (found == messages_.end()) return key;
  return lang == Lang::kThai ? found->second.first : found->second.second;
}

const StaticAsset* Views::Asset(const std::string& name) const {
  const auto found = assets_.find(name);
  return found == assets_.end() ? nullptr : &found->second;
}

}  // namespace esar::web
