// The audit trail for admins (issue 12 §6): the log filtered by agency, user, kind of change and
// time (Buddhist Era dates in the shared date field), newest first, fifty entries a page, each
// told in words: who, when, what, and every value before → after.

#include "common/thai.h"
#include "service/audit_trail.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;

namespace {
constexpr int64_t kAuditPerPage = 50;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
}  // namespace

HttpResponse Pages::AuditTrail(PageCall& call) {
  service::AuditQuery query;
  query.agency = call.Query("agency");
  query.username = call.Query("user");
  query.kind = call.Query("kind");
  query.limit = kAuditPerPage;
  const std::string from = call.Query("from"), to = call.Query("to");
  const int64_t before = ParseId(call.Query("before"));
  query.before_seq = before;
  // A date the field cannot read is said next to the form, and nothing is listed: a list
  // ignoring the filter would look like an answer to it.
  Status problem = Status::Ok();
  if (!from.empty()) {
    auto start = ParseDateField(from, "00:00");
    if (start) query.from_ms = *start;
    else problem = start.status();
  }
  if (!to.empty() && problem.ok()) {
    auto end = ParseDateField(to, "00:00");
    if (end) query.to_ms = *end + kDayMs;  // the day named is included
    else problem = end.status();
  }
  Result<service::AuditPage> page = problem;
  if (problem.ok()) page = service::ReadAuditTrail(call.db, call.actor, query);
  if (!page && page.status().code() != StatusCode::kInvalidInput) {
    return ErrorPage(call, page.status());
  }
  json entries = json::array();
  // The filters as a query string, for the older page and back to the newest.
  const std::string filters = "/admin/audit?agency=" + UrlEncode(query.agency) + "&user=" +
                              UrlEncode(query.username) + "&kind=" + UrlEncode(query.kind) +
                              "&from=" + UrlEncode(from) + "&to=" + UrlEncode(to);
  std::string next;
  if (page) {
    for (const service::AuditEntry& e : page->items) {
      json changes = json::array();
      for (const service::AuditChange& c : e.changes) {
        changes.push_back({{"field", call.Pick(c.field)},
                           // Null when nothing was recorded before (a new value).
                           {"before", c.before.empty() ? json(nullptr) : json(call.Pick(c.before))},
                           {"after", call.Pick(c.after)},
                           {"removed", c.after.empty()}});
      }
      const bool system = e.username.empty();
      entries.push_back({{"seq", e.seq},
                         {"when", FormatDateTime(e.at, call.lang)},
                         {"who", system ? call.T("audit.system") : e.display_name},
                         // The username too when the name shown is another.
                         {"username", system || e.display_name == e.username ? json(nullptr)
                                                                             : json(e.username)},
                         {"what", call.Pick(e.what)},
                         {"action", e.action},
                         {"changes", changes},
                         {"has_changes", !changes.empty()}});
    }
    if (page->next_before) {
      next = filters + "&before=" + std::to_string(page->next_before);
    }
  }
  json kinds = json::array();
  kinds.push_back(
      json{{"value", ""}, {"label", call.T("audit.any_kind")}, {"selected", query.kind.empty()}});
  for (const service::AuditKind& k : service::AuditKinds()) {
    kinds.push_back(json{
        {"value", k.name}, {"label", call.Pick(k.label)}, {"selected", query.kind == k.name}});
  }
  json model = {
      {"agency", query.agency},
      {"user", query.username},
      {"kinds", kinds},
      {"from", DateField("audit-from", "from", call.T("sheets.from"), from, false)},
      {"to", DateField("audit-to", "to", call.T("sheets.to"), to, false)},
      {"entries", entries},
      {"none", page && entries.empty()},
      // No error is null, not "": the template engine shows an empty text's section.
      {"error", page ? json(nullptr) : json(call.Message(page.status()))},
      {"has_entries", !entries.empty()},
      {"next", next.empty() ? json(nullptr) : json(next)},
      {"newest", before > 0 ? json(filters) : json(nullptr)},
      {"paged", !next.empty() || before > 0},
  };
  return RenderPage(call, "admin_audit", model, call.T("audit.title"),
                    page ? 200 : HttpStatusOf(page.status().code()));
}

}  // namespace esar::web
