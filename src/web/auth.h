#pragma once

// Who is calling, from the request: the session cookie (with its CSRF token on unsafe methods)
// or an API token. Shared by the JSON routes and the upload route.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "service/actor.h"
#include "storage/database.h"
#include "web/http.h"

namespace esar::web {

inline constexpr const char* kSessionCookie = "esar_session";

// The Set-Cookie value of a session: HttpOnly, SameSite=Lax, Secure when `secure`; an empty
// token with max age 0 deletes it.
std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure);

// The public when the request carries no credentials; kUnauthenticated for bad or expired ones;
// kPermissionDenied for a cookie session's unsafe request without the right X-CSRF-Token.
Result<service::Actor> Authenticate(const HttpRequest& request, storage::Database& db,
                                    const Clock& clock);

}  // namespace esar::web
