// The notification list every logged-in user has, the e-mail preferences on the account page,
// and the central office's outbox (issue 13 §1-2).
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "service/notify.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {
constexpr int64_t kPerPage = 50;

// The 1-based ?page= of a list (1 when absent or not a number).
int64_t PageNumber(const PageCall& call) {
  const int64_t page = ParseId(call.Query("page"));
  return page > 0 ? page : 1;
}

// Links to the pages before and after, keeping `query` ("status=failed&").
json Paging(int64_t page, int64_t total, const std::string& base) {
  json out = json::object();
  if (page > 1) out["previous"] = base + "page=" + std::to_string(page - 1);
  if (page * kPerPage < total) out["next"] = base + "page=" + std::to_string(page + 1);
  out["any"] = out.contains("previous") || out.contains("next");
  return out;
}
}  // namespace

HttpResponse Pages::Notifications(PageCall& call) {
  const int64_t page = PageNumber(call);
  auto list = service::Inbox(call.db, clock_).List(call.actor, kPerPage, (page - 1) * kPerPage);
  if (!list) return ErrorPage(call, list.status());
  json items = json::array();
  for (const service::NotificationItem& n : list->items) {
    items.push_back({{"id", n.id},
                     {"subject", call.Pick(n.subject)},
                     {"body", call.Pick(n.body)},
                     {"link", n.link},
                     {"has_link", !n.link.empty()},
                     {"when", FormatDateTime(n.created_at, call.lang)},
                     {"unread", n.read_at == 0}});
  }
  json model = {{"items", items},
                {"none", items.empty()},
                {"unread", list->unread},
                {"has_unread", list->unread > 0},
                {"paging", Paging(page, list->total, "/notifications?")}};
  return RenderPage(call, "notifications", model, call.T("notifications.title"));
}

HttpResponse Pages::MarkNotificationsRead(PageCall& call) {
  const std::string id = call.Field("id");
  auto marked = service::Inbox(call.db, clock_).MarkRead(call.actor, id.empty() ? 0 : ParseId(id));
  if (!marked) return ErrorPage(call, marked.status());
  // Opening one notification marks it read and goes to its page.
  const std::string next = call.Field("next");
  if (!next.empty()) return Redirect(SafeNext(next));
  return Redirect("/notifications?done=notifications_read");
}

HttpResponse Pages::SavePreferences(PageCall& call) {
  auto lang = service::ParseLangCode(call.Field("language"));
  if (!lang) return ErrorPage(call, lang.status());
  Status s = service::Contacts(call.db, clock_)
                 .SetPreferences(call.actor, *lang, call.Field("reminders") == "on",
                                 call.Field("digest") == "on",
                                 call.Field("announcements") == "on");
  if (!s.ok()) return ErrorPage(call, s);
  return Redirect("/account/password?done=preferences_saved#mail");
}

HttpResponse Pages::OutboxPage(PageCall& call) {
  std::string status = call.Query("status");
  if (status != "waiting" && status != "sent" && status != "failed") status.clear();
  const int64_t page = PageNumber(call);
  auto list = service::Outbox(call.db, clock_)
                  .List(call.actor, status, kPerPage, (page - 1) * kPerPage);
  if (!list) return ErrorPage(call, list.status());
  json items = json::array();
  for (const service::OutboxItem& m : list->items) {
    const char* state = service::OutboxStatusName(m.status);
    items.push_back(
        {{"id", m.id},
         {"to", m.address},
         {"user", m.username},
         {"kind", m.kind},
         {"subject", m.subject},
         {"language", m.language == Lang::kThai ? "ไทย" : "English"},
         {"created", FormatDateTime(m.created_at, call.lang)},
         {"state", call.T(std::string("outbox.state.") + state)},
         {"state_class", state},
         {"attempts", m.attempts},
         {"when", m.sent_at ? FormatDateTime(m.sent_at, call.lang)
                  : m.status == service::OutboxStatus::kWaiting
                      ? FormatDateTime(m.next_attempt_at, call.lang)
                      : ""},
         {"answer", m.last_error},
         {"resend", m.status != service::OutboxStatus::kWaiting}});
  }
  json filters = json::array();
  for (const char* f : {"", "waiting", "sent", "failed"}) {
    filters.push_back({{"value", f},
                       {"label", call.T(std::string("outbox.filter.") + (*f ? f : "all"))},
                       {"selected", status == f}});
  }
  json model = {{"items", items},
                {"none", items.empty()},
                {"sending", options_.mail_sending},
                {"waiting", list->waiting},
                {"sent", list->sent},
                {"failed", list->failed},
                {"filters", filters},
                {"paging", Paging(page, list->total,
                                  "/admin/outbox?" + (status.empty() ? "" : "status=" + status + "&"))}};
  return RenderPage(call, "admin_outbox", model, call.T("outbox.title"));
}

HttpResponse Pages::ResendMail(PageCall& call) {
  Status s = service::Outbox(call.db, clock_)
                 .Resend(call.actor, ParseId(call.request.params.at("id")));
  if (!s.ok()) return ErrorPage(call, s);
  return Redirect("/admin/outbox?done=mail_resent");
}

}  // namespace esar::web
