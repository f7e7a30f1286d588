// Forgotten passwords (issue 13 §1): the form that asks for a link (from the login page), and
// the page the link opens, which sets a new password. Both are public; what they answer never
// depends on whether the name or address asked about exists.
#include <nlohmann/json.hpp>

#include "service/password_reset.h"
#include "web/auth.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {

// The reset page carries its token in the address: no other site may learn it from a Referer,
// and no cache may keep it.
void KeepTokenPrivate(HttpResponse& r) {
  std::erase_if(r.headers, [](const auto& header) {
    return header.first == "Referrer-Policy" || header.first == "Cache-Control";
  });
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

HttpResponse Pages::ForgotPage(PageCall& call, const json& extra, int status) {
  json model = {{"who", call.Field("who")}};
  model.update(extra);
  return RenderPage(call, "password_forgot", model, call.T("forgot.title"), status);
}

HttpResponse Pages::ForgotForm(PageCall& call) { return ForgotPage(call, json::object(), 200); }

HttpResponse Pages::RequestReset(PageCall& call) {
  Status same_site = CheckSameSite(call.request, options_.proxy);
  if (!same_site.ok()) return ForgotPage(call, {{"error", call.Message(same_site)}}, 403);
  int64_t retry_after_s = 0;
  Status s = service::PasswordResets(pool_, clock_, *options_.hasher)
                 .Request(call.Field("who"), options_.proxy.ClientAddress(call.request),
                          &retry_after_s);
  if (!s.ok()) {
    HttpResponse r = ForgotPage(call, {{"error", call.Message(s)}}, HttpStatusOf(s.code()));
    if (retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
    return r;
  }
  // The same page for a name that exists and one that does not.
  return ForgotPage(call, {{"sent", true}, {"who", ""}}, 200);
}

HttpResponse Pages::ResetPage(PageCall& call, const std::string& token, const std::string& error,
                              int status) {
  json model = {{"token", token}};
  if (!error.empty()) model["error"] = error;
  HttpResponse r = RenderPage(call, "password_reset", model, call.T("reset.title"), status);
  KeepTokenPrivate(r);
  return r;
}

HttpResponse Pages::ResetForm(PageCall& call) {
  const std::string token = call.Query("token");
  Status live = service::PasswordResets(pool_, clock_, *options_.hasher).Check(token);
  if (!live.ok()) {
    // A dead link shows why, and the way to a new one, without the form.
    json model = {{"dead", call.Message(live)}};
    HttpResponse r = RenderPage(call, "password_reset", model, call.T("reset.title"),
                                HttpStatusOf(live.code()));
    KeepTokenPrivate(r);
    return r;
  }
  return ResetPage(call, token, "", 200);
}

HttpResponse Pages::ResetPassword(PageCall& call) {
  const std::string token = call.Field("token");
  Status same_site = CheckSameSite(call.request, options_.proxy);
  if (!same_site.ok()) return ResetPage(call, token, call.Message(same_site), 403);
  if (call.Field("new_password") != call.Field("confirm")) {
    return ResetPage(call, token, call.T("password.mismatch"), 400);
  }
  Status s = service::PasswordResets(pool_, clock_, *options_.hasher)
                 .Reset(token, call.Field("new_password"));
  if (!s.ok()) {
    HttpResponse r = ResetPage(call, token, call.Message(s), HttpStatusOf(s.code()));
    if (s.code() == StatusCode::kUnavailable) {
      r.headers.emplace_back("Retry-After",
                             std::to_string(security::PasswordHasher::kRetryAfterSeconds));
    }
    return r;
  }
  // Every session of the user ended with the old password, this browser's too.
  HttpResponse r = Redirect("/login?done=password_reset");
  r.headers.emplace_back("Set-Cookie",
                         SessionCookie("", 0, options_.secure_cookies || call.request.tls));
  return r;
}

}  // namespace esar::web
