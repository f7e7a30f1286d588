#pragma once

// Who is calling, from the request: the session cookie (with its CSRF token on unsafe methods)
// or an API token. Shared by the JSON routes and the upload route.

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "service/actor.h"
#include "storage/database.h"
#include "web/http.h"

namespace esar::web {

inline constexpr const char* kSessionCookie = "esar_session";

// The reverse proxy esar may believe about who the client is (--trusted-proxy). Behind a proxy
// on the same host every connection comes from the proxy's address: without this, every client
// would share one login throttle. Only a request whose connection comes from one of these
// addresses is believed; anyone else's X-Forwarded-For is ignored.
class TrustedProxy {
 public:
  TrustedProxy() = default;  // trusts no one
  // "ADDR" or "ADDR,ADDR" (IPv4 or IPv6, e.g. "127.0.0.1,::1"); "" trusts no one.
  // kInvalidInput names an entry that is not an IP address.
  static Result<TrustedProxy> Parse(const std::string& list);

  // The client's address: from a trusted proxy, the last X-Forwarded-For entry (the one the
  // proxy itself appended; earlier ones are whatever the client claimed) when it is an IP
  // address; otherwise the connection's own address.
  std::string ClientAddress(const HttpRequest& request) const;
  // The host (and port) the client addressed: X-Forwarded-Host from a trusted proxy when sent,
  // otherwise the Host header.
  std::string Host(const HttpRequest& request) const;
  bool empty() const { return addresses_.empty(); }

 private:
  bool Trusted(const HttpRequest& request) const;
  std::vector<std::string> addresses_;  // canonical text (IPv4-mapped IPv6 as IPv4)
};

// Refuses a request sent from another site (login CSRF: a foreign page posting a login form so
// that the victim works in the attacker's account): kPermissionDenied when its Origin, or
// without one its Referer, names another host than the one the request addressed. A request
// with neither (curl, scripts) passes; `*vouched` tells whether one of them was there and
// matched, so that a form can ask for more (a double-submit token) when neither was.
Status CheckSameSite(const HttpRequest& request, const TrustedProxy& proxy,
                     bool* vouched = nullptr);

// The Set-Cookie value of a session: HttpOnly, SameSite=Lax, Secure when `secure`; an empty
// token with max age 0 deletes it.
std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure);

// The public when the request carries no credentials; kUnauthenticated for bad or expired ones;
// kPermissionDenied for a cookie session's unsafe request without the right X-CSRF-Token, and
// for a read-only API token's unsafe request.
Result<service::Actor> Authenticate(const HttpRequest& request, storage::Database& db,
                                    const Clock& clock);

}  // namespace esar::web
