#include "web/auth.h"

#include "security/crypto.h"
#include "service/directory.h"

namespace esar::web {

std::string SessionCookie(const std::string& token, int64_t max_age_s, bool secure) {
  return std::string(kSessionCookie) + "=" + token +
         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age_s) +
         (secure ? "; Secure" : "");
}

Result<service::Actor> Authenticate(const HttpRequest& request, storage::Database& db,
                                    const Clock& clock) {
  service::Directory directory(db, clock);
  const std::string& authorization = request.Header("authorization");
  if (authorization.rfind("Bearer ", 0) == 0)
    return directory.FindApiToken(authorization.substr(7));
  const std::string token = request.Cookie(kSessionCookie);
  if (token.empty()) return service::Actor::Public();
  auto session = directory.FindSession(token);
  if (!session) return session.status();
  const bool unsafe =
      request.method != "GET" && request.method != "HEAD" && request.method != "OPTIONS";
  if (unsafe &&
      !security::ConstantTimeEquals(request.Header("x-csrf-token"), session->csrf_token)) {
    return Status::PermissionDenied("คำขอไม่มีโทเคน CSRF ที่ถูกต้อง โปรดโหลดหน้าใหม่",
                                    "missing or wrong CSRF token: reload the page");
  }
  return session->actor;
}

}  // namespace esar::web
