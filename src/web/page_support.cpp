#include "web/page_support.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "common/text.h"
#include "service/notify.h"
#include "web/multipart.h"

namespace esar::web {

using nlohmann::json;

std::string PageCall::Field(const std::string& name) const {
  const auto found = form.find(name);
  return found == form.end() ? "" : found->second;
}

std::string PageCall::Query(const std::string& name) const {
  const auto found = request.query.find(name);
  return found == request.query.end() ? "" : found->second;
}

namespace {

struct NavItem {
  const char* href;
  const char* key;
};

std::vector<NavItem> NavFor(service::Role role) {
  using service::Role;
  switch (role) {
    case Role::kReporter:
    case Role::kApprover:
      return {{"/agency", "nav.agency"},
              {"/agency/results", "nav.agency_results"},
              {"/agency/questions", "nav.agency_questions"},
              {"/", "nav.results"},
              {"/dashboard", "nav.dashboard"}};
    case Role::kEvaluator:
      return {{"/review", "nav.review"},
              {"/review/appeals", "nav.appeals"},
              {"/review/questions", "nav.review_questions"},
              {"/", "nav.results"},
              {"/dashboard", "nav.dashboard"},
              {"/qa", "nav.qa"}};
    case Role::kAdmin:
      return {{"/admin", "nav.admin"},
              {"/admin/frameworks", "nav.frameworks"},
              {"/admin/rounds", "nav.rounds"},
              {"/admin/results", "nav.admin_results"},
              {"/admin/agencies", "nav.agencies"},
              {"/admin/users", "nav.users"},
              {"/admin/questions", "nav.admin_questions"},
              {"/admin/announcements", "nav.announcements"},
              {"/admin/outbox", "nav.outbox"},
              {"/admin/audit", "nav.audit"},
              {"/review", "nav.review"},
              {"/", "nav.results"}};
    case Role::kPublic:
      break;
  }
  return {{"/", "nav.results"}, {"/dashboard", "nav.dashboard"}, {"/qa", "nav.qa"}};
}

void SecurityHeaders(HttpResponse& r, bool personal) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                         "base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  r.headers.emplace_back("Cache-Control", personal ? "no-store" : "no-cache");
}

}  // namespace

HttpResponse RenderPage(PageCall& call, const std::string& template_name, json model,
                        const std::string& title, int status) {
  const bool thai = call.lang == Lang::kThai;
  model["th"] = thai;
  model["csrf"] = call.csrf;
  const std::string content = call.views.Render(template_name, model, call.lang);
  json layout = {{"content", content},
                 {"title", title},
                 {"lang", thai ? "th" : "en"},
                 {"th", thai},
                 {"csrf", call.csrf},
                 {"path", UrlEncode(call.request.target)},
                 {"htmx", model.value("htmx", false)},
                 {"chart", model.value("chart", false)}};
  for (const char* asset :
       {"esar.css", "esar.js", "htmx.min.js", "chart.umd.min.js", "favicon.svg"}) {
    const StaticAsset* found = call.views.Asset(asset);
    std::string key(asset);
    for (char& ch : key) {
      if (ch == '.') ch = '_';
    }
    layout["asset"][key] = found ? found->url : "";
  }
  // The current item is the one whose address is the longest prefix of the page's path:
  // /agency/results is under "Results and appeals", not also under /agency.
  const std::vector<NavItem> items = NavFor(call.actor.role);
  auto covers = [&](const std::string& href) {
    return call.request.path == href ||
           (href != "/" && call.request.path.rfind(href + "/", 0) == 0);
  };
  size_t longest = 0;
  for (const NavItem& item : items) {
    if (covers(item.href)) longest = std::max(longest, std::string(item.href).size());
  }
  json nav = json::array();
  for (const NavItem& item : items) {
    const std::string href = item.href;
    const bool current = covers(href) && href.size() == longest;
    nav.push_back({{"href", href}, {"label", call.T(item.key)}, {"current", current}});
  }
  layout["nav"] = nav;
  if (call.actor.user_id != 0) {
    // Every page a user sees says how many notifications wait unread (one indexed count).
    auto unread = service::Inbox(call.db, call.clock).Unread(call.actor);
    const int64_t count = unread ? *unread : 0;
    layout["notifications"] = {{"unread", count},
                               {"has_unread", count > 0},
                               {"current", call.request.path == "/notifications"}};
    layout["user"] = {{"name", call.actor.username},
                      {"role", call.T(std::string("role.") + service::RoleName(call.actor.role))},
                      {"agency", call.actor.agency}};
  }
  const std::string done = call.Query("done");
  if (!done.empty()) {
    const std::string key = "done." + done;
    const std::string& message = call.T(key);
    if (message != key) layout["flash"] = message;
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = call.views.Render("layout", layout, call.lang);
  SecurityHeaders(r, call.actor.user_id != 0);
  return r;
}

HttpResponse RenderFragment(PageCall& call, const std::string& template_name, const json& model) {
  json with = model;
  with["th"] = call.lang == Lang::kThai;
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = call.views.Render(template_name, with, call.lang);
  SecurityHeaders(r, true);
  return r;
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", EncodeUriReference(location));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse ErrorPage(PageCall& call, const Status& status) {
  const int http = HttpStatusOf(status.code());
  json model = {{"message", call.Message(status)}, {"status", http}, {"login", http == 401}};
  return RenderPage(call, "error", model, call.T("error.title"), http);
}

std::map<std::string, std::string> ParseUrlEncoded(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string key, value;
    // A pair with a malformed escape or broken text is dropped: never shown back or stored.
    if (PercentDecode(pair.substr(0, eq), key, true) &&
        (eq == std::string_view::npos || PercentDecode(pair.substr(eq + 1), value, true)) &&
        !key.empty()) {
      out[key] = std::move(value);
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseMultipartForm(std::string_view body,
                                                              std::string_view content_type) {
  auto boundary = BoundaryFromContentType(content_type);
  if (!boundary) return boundary.status();
  struct Collector final : MultipartParser::Handler {
    std::map<std::string, std::string> fields;
    std::set<std::string> files;  // the fields that are files: their bytes may be binary
    std::string current;
    Status OnPartBegin(const PartHeaders& headers) override {
      current = headers.name;
      fields[current].clear();
      if (headers.has_filename) {
        fields[current + ".name"] = CleanFileName(headers.filename);
        files.insert(current);
      }
      return Status::Ok();
    }
    Status OnPartData(std::string_view bytes) override {
      fields[current].append(bytes);
      return Status::Ok();
    }
    Status OnPartEnd() override { return Status::Ok(); }
  } collector;
  MultipartParser parser(*boundary, collector);
  Status fed = parser.Feed(body);
  if (!fed.ok()) return fed;
  Status finished = parser.Finish();
  if (!finished.ok()) return finished;
  for (const auto& [name, value] : collector.fields) {
    // A file's bytes are the handler's to read (an XLSX is a ZIP); every text field is UTF-8.
    if (!collector.files.count(name) && !IsValidUtf8(value)) {
      return Status::InvalidInput("ช่อง \"" + name + "\" ไม่ใช่ข้อความ UTF-8",
                                  "field \"" + name + "\" is not UTF-8 text");
    }
  }
  return collector.fields;
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\')))
    return "/";
  for (const unsigned char ch : next) {
    if (ch < 0x20 || ch == 0x7f) return "/";
  }
  return next;
}

std::string Number(double value, int decimals) {
  if (!std::isfinite(value)) return "–";
  std::string text = FormatDecimal(value, decimals);
  const bool negative = !text.empty() && text[0] == '-';
  const size_t digits_start = negative ? 1 : 0;
  size_t point = text.find('.');
  if (point == std::string::npos) point = text.size();
  for (size_t at = point; at > digits_start + 3; at -= 3) text.insert(at - 3, ",");
  return text;
}

std::string TextOr(const json& object, const char* key, const std::string& fallback) {
  if (!object.is_object() || !object.contains(key)) return fallback;
  const json& value = object[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return ShortestDecimal(value.get<double>());
  return fallback;
}

double NumberOr(const json& object, const char* key, double fallback) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return fallback;
  return object[key].get<double>();
}

int64_t ParseId(const std::string& text) {
  int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && ptr == text.data() + text.size() && id > 0 ? id : 0;
}

int64_t PageNumber(const std::string& text) {
  int64_t page = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), page);
  if (ptr != text.data() + text.size() || text.empty()) return 1;
  if (ec == std::errc::result_out_of_range) return text[0] == '-' ? 1 : kMaxPageNumber;
  if (ec != std::errc() || page < 1) return 1;
  return std::min(page, kMaxPageNumber);
}

std::string HtmlId(std::string text) {
  for (char& ch : text) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '-';
  }
  return text;
}

nlohmann::json DateField(const std::string& id, const std::string& name, const std::string& label,
                         const std::string& value, bool required) {
  return {{"id", id}, {"name", name}, {"label", label}, {"value", value}, {"required", required}};
}

std::string UnlistedComponentName(const PageCall& call, const std::string& id) {
  const std::string key = "component." + id;
  const std::string& name = call.T(key);
  return name == key ? id : name;
}

}  // namespace esar::web
