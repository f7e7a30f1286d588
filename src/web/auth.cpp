#include "web/auth.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "security/crypto.h"
#include "service/directory.h"

namespace esar::web {
namespace {

// `text` as an IP address in canonical form (an IPv4-mapped IPv6 address as IPv4), or "" when it
// is not one.
std::string CanonicalAddress(std::string text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  char out[INET6_ADDRSTRLEN] = {};
  unsigned char v4[4], v6[16];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    return inet_ntop(AF_INET, v4, out, sizeof out) ? out : "";
  }
  if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return "";
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6, kMapped, sizeof kMapped) == 0) {
    return inet_ntop(AF_INET, v6 + 12, out, sizeof out) ? out : "";
  }
  return inet_ntop(AF_INET6, v6, out, sizeof out) ? out : "";
}

// "host[:port]" in lower case, without a default port (80, 443), for comparing.
std::string Authority(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* port : {":80", ":443"}) {
    const size_t n = std::strlen(port);
    if (text.size() > n && text.compare(text.size() - n, n, port) == 0 && text.back() != ']') {
      text.resize(text.size() - n);
      break;
    }
  }
  return text;
}

// The authority of an absolute URL ("https://host:port/path" -> "host:port"), or "" for
// anything else (including the "null" origin of sandboxed and privacy-stripped requests).
std::string UrlAuthority(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t start = scheme + 3;
  const size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos
                                                                      : end - start);
  if (authority.find('@') != std::string::npos) return "";  // credentials: not a browser's
  return Authority(authority);
}

}  // namespace

Result<TrustedProxy> TrustedProxy::Parse(const std::string& list) {
  TrustedProxy proxy;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string entry =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const bool blank = std::all_of(entry.begin(), entry.end(),
                                   [](unsigned char c) { return std::isspace(c); });
    if (!blank) {
      const std::string address = CanonicalAddress(entry);
      if (address.empty()) {
        return Status::InvalidInput("--trusted-proxy: \"" + entry + "\" ไม่ใช่ที่อยู่ IP",
                                    "--trusted-proxy: \"" + entry + "\" is not an IP address");
      }
      proxy.addresses_.push_back(address);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return proxy;
}

bool TrustedProxy::Trusted(const HttpRequest& request) const {
  if (addresses_.empty()) return false;
  const std::string peer = CanonicalAddress(request.remote_address);
  return !peer.empty() && std::find(addresses_.begin(), addresses_.end(), peer) != addresses_.end();
}

std::string TrustedProxy::ClientAddress(const HttpRequest& request) const {
  if (!Trusted(request)) return request.remote_address;
  const std::string& forwarded = request.Header("x-forwarded-for");
  const size_t comma = forwarded.rfind(',');
  const std::string last =
      CanonicalAddress(comma == std::string::npos ? forwarded : forwarded.substr(comma + 1));
  return last.empty() ? request.remote_address : last;
}

std::string TrustedProxy::Host(const HttpRequest& request) const {
  if (Trusted(request)) {
    const std::string& forwarded = request.Header("x-forwarded-host");
    if (!forwarded.empty()) {
      const size_t comma = forwarded.rfind(',');
      std::string last = comma == std::string::npos ? forwarded : forwarded.substr(comma + 1);
      last.erase(0, last.find_first_not_of(' '));
      return last;
    }
  }
  return request.Header("host");
}

Status CheckSameSite(const HttpRequest& request, const TrustedProxy& proxy, bool* vouched) {
  if (vouched) *vouched = false;
  const std::string& origin = request.Header("origin");
  const std::string& referer = request.Header("referer");
  if (origin.empty() && referer.empty()) return Status::Ok();
  const std::string from = UrlAuthority(origin.empty() ? referer : origin);
  const std::string host = Authority(proxy.Host(request));
  if (from.empty() || host.empty() || from != host) {
    return Status::PermissionDenied(
        "คำขอเข้าสู่ระบบมาจากเว็บไซต์อื่น โปรดเข้าสู่ระบบจากหน้าของ esar เอง",
        "the login was sent from another site: log in from esar's own page");
  }
  if (vouched) *vouched = true;
  return Status::Ok();
}

std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookie) + "=" + token +
         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

Result<service::Actor> Authenticate(const HttpRequest& request, storage::Database& db,
                                    const Clock& clock) {
  service::Directory directory(db, clock);
  const std::string& authorization = request.Header("authorization");
  const bool unsafe =
      request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS";
  if (authorization.rfind("Bearer ", 0) == 0) {
    auto actor = directory.FindApiToken(authorization.substr(7));
    if (actor && actor->read_only && unsafe) {
      return Status::PermissionDenied("โทเคนนี้ใช้อ่านข้อมูลได้อย่างเดียว",
                                      "this API token may only read");
    }
    return actor;
  }
  const std::string token = request.Cookie(kSessionCookie);
  if (token.empty()) return service::Actor::Public();
  auto session = directory.FindSession(token);
  if (!session) return session.status();
  if (unsafe &&
      !security::ConstantTimeEquals(request.Header("x-csrf-token"), session->csrf_token)) {
    return Status::PermissionDenied("คำขอไม่มีโทเคน CSRF ที่ถูกต้อง โปรดโหลดหน้าใหม่",
                                    "missing or wrong CSRF token: reload the page");
  }
  return session->actor;
}

}  // namespace esar::web
