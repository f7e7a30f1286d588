#include "web/http.h"

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace esar::web {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    out.push_back(
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

const char* CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidInput:
      return "invalid_input";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "forbidden";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kTooManyRequests:
      return "too_many_requests";
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDataLoss:
      return "data_corrupt";
    case StatusCode::kInternal:
    case StatusCode::kOk:
      return "internal";
  }
  return "internal";
}

}  // namespace

bool PercentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return false;
      }
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return IsValidUtf8(out) && out.find('\0') == std::string::npos;
}

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

std::string HttpRequest::Cookie(const std::string& name) const {
  const std::string& all = Header("cookie");
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find(';', start);
    if (end == std::string::npos) end = all.size();
    std::string pair = all.substr(start, end - start);
    pair.erase(0, pair.find_first_not_of(' '));
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    start = end + 1;
  }
  return "";
}

void Router::Add(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back({method, Split(pattern), std::move(handler), nullptr});
}

void Router::AddUpload(const std::string& method, const std::string& pattern,
                       UploadStarter starter) {
  routes_.push_back({method, Split(pattern), nullptr, std::move(starter)});
}

Router::Match Router::Find(HttpRequest& request) const {
  Match match;
  const std::vector<std::string> segments = Split(request.path);
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool same = true;
    for (size_t i = 0; i < segments.size() && same; ++i) {
      const std::string& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        if (segments[i].empty())
          same = false;
        else
          params[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        same = want == segments[i];
      }
    }
    if (!same) continue;
    match.path_known = true;
    if (route.method != request.method) {
      match.allowed += (match.allowed.empty() ? "" : ", ") + route.method;
      continue;
    }
    request.params = std::move(params);
    match.handler = route.handler ? &route.handler : nullptr;
    match.upload = route.upload ? &route.upload : nullptr;
    return match;
  }
  if (!match.path_known && fallback_) match.handler = &fallback_;
  return match;
}

bool ParseTarget(const std::string& target, std::string& path,
                 std::map<std::string, std::string>& query) {
  if (target.empty() || target[0] != '/') return false;
  const size_t q = target.find('?');
  if (!PercentDecode(std::string_view(target).substr(0, q), path, false)) return false;
  if (q == std::string::npos) return true;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), key, true)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value, true))
      return false;
    if (!key.empty()) query[key] = value;
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return true;
}

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendEscaped(std::string& out, unsigned char ch) {
  out += '%';
  out += kHex[ch >> 4];
  out += kHex[ch & 15];
}

bool IsAsciiAlnum(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

}  // namespace

std::string EncodeUriReference(std::string_view uri) {
  // RFC 3986: unreserved, reserved (gen-delims and sub-delims) and '%' may stay.
  static constexpr std::string_view kKept = "-._~:/?#[]@!$&'()*+,;=%";
  std::string out;
  out.reserve(uri.size());
  for (const unsigned char ch : uri) {
    if (IsAsciiAlnum(ch) || kKept.find(static_cast<char>(ch)) != std::string_view::npos) {
      out += static_cast<char>(ch);
    } else {
      AppendEscaped(out, ch);
    }
  }
  return out;
}

std::string AttachmentDisposition(std::string_view name) {
  // RFC 8187 attr-char: ALPHA DIGIT and !#$&+-.^_`|~ ; everything else percent-encoded.
  static constexpr std::string_view kAttrChars = "!#$&+-.^_`|~";
  std::string out = "attachment; filename*=UTF-8''";
  for (const unsigned char ch : name) {
    if (IsAsciiAlnum(ch) || kAttrChars.find(static_cast<char>(ch)) != std::string_view::npos) {
      out += static_cast<char>(ch);
    } else {
      AppendEscaped(out, ch);
    }
  }
  return out;
}

bool IsSafeHeaderValue(std::string_view value) {
  for (const unsigned char ch : value) {
    if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) return false;
  }
  return true;
}

bool IsLoopbackAddress(std::string_view address) {
  if (address == "::1") return true;
  if (address.rfind("::ffff:", 0) == 0) address.remove_prefix(7);
  // 127.a.b.c: three more decimal parts of at most three digits after "127.".
  if (address.rfind("127.", 0) != 0) return false;
  int parts = 2, digits = 0;  // "127" and the part being read
  for (const char ch : address.substr(4)) {
    if (ch == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = 0;
    } else if (ch >= '0' && ch <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 4 && digits > 0;
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidInput:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kTooManyRequests:
      return 429;
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return 500;
  }
  return 500;
}

HttpResponse ErrorResponse(const Status& status, const std::string& details_json) {
  nlohmann::json details = nullptr;
  try {
    details = nlohmann::json::parse(details_json);
  } catch (const nlohmann::json::exception&) {
  }
  if (!status.where().ToString().empty() && details.is_null())
    details = {{"where", status.where().ToString()}};
  const nlohmann::json body = {{"error",
                                {{"code", CodeName(status.code())},
                                 {"message_th", status.message_th()},
                                 {"message_en", status.message_en()},
                                 {"details", details}}}};
  // Messages can quote what a client sent: invalid UTF-8 in it is replaced, never thrown on.
  return JsonResponse(HttpStatusOf(status.code()),
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse JsonResponse(int http_status, const std::string& json) {
  HttpResponse r;
  r.status = http_status;
  r.body = json;
  return r;
}

}  // namespace esar::web
