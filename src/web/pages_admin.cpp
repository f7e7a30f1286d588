// The central office's pages: agencies and users, frameworks (import, read, edit a KPI with
// `esar check`'s findings inline), rounds and extensions, and results (compute, finalize,
// publish).

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>

#include "common/thai.h"
#include "domain/check.h"
#include "domain/framework_diff.h"
#include "formats/json_input.h"
#include "formats/framework_json.h"
#include "formats/inputs.h"
#include "formats/xlsx_reader.h"
#include "service/authoring.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/password_reset.h"
#include "service/reporting.h"
#include "service/results.h"
#include "web/form_fields.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;
using service::Role;

namespace {

std::string KindLabel(const PageCall& call, const std::string& kind) {
  const std::string key = "kind." + kind;
  const std::string& name = call.T(key);
  return name == key ? kind : name;
}

json AgencyOptions(const PageCall& call, const std::vector<domain::Agency>& agencies,
                   const std::string& chosen) {
  std::vector<std::pair<std::string, json>> sorted;
  for (const auto& a : agencies) {
    const std::string label = call.Pick(a.name) + " (" + a.code + ")";
    sorted.push_back({ThaiSortKey(call.Pick(a.name)),
                      {{"value", a.code}, {"label", label}, {"selected", a.code == chosen}}});
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  json out = json::array();
  for (auto& s : sorted) out.push_back(std::move(s.second));
  return out;
}

json FindingsModel(const PageCall& call, const std::vector<domain::Finding>& findings,
                   const std::string& path_prefix) {
  json out = json::array();
  for (const auto& f : findings) {
    if (!path_prefix.empty() && f.where.json_path.rfind(path_prefix, 0) != 0) continue;
    out.push_back({{"error", f.severity == domain::Severity::kError},
                   {"severity", call.T(f.severity == domain::Severity::kError ? "check.error"
                                                                              : "check.warning")},
                   {"where", f.where.json_path},
                   {"message", call.lang == Lang::kThai ? f.message_th : f.message_en},
                   {"code", f.code}});
  }
  return out;
}

// `pattern` with {1}, {2}, ... replaced by `args` ("{1} agencies have not submitted {2} KPIs").
std::string Fill(std::string pattern, const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string slot = "{" + std::to_string(i + 1) + "}";
    for (size_t at = pattern.find(slot); at != std::string::npos;
         at = pattern.find(slot, at + args[i].size())) {
      pattern.replace(at, slot.size(), args[i]);
    }
  }
  return pattern;
}

std::string Count(int64_t n) { return Number(static_cast<double>(n), 0); }

// The label of a round: "ปีงบประมาณ พ.ศ. 2567 · กรม · รอบ 12 เดือน".
std::string PeriodOf(const PageCall& call, const service::RoundSummary& r) {
  return FiscalYearName(r.fiscal_year, call.lang) + " · " + KindLabel(call, r.agency_kind) + " · " +
         RoundName(r.round.round, call.lang);
}

// What a confirmation states before `action` ("close", "compute", "finalize", "close-appeals",
// "publish"): the round's readiness as sentences, those that stand in the way (or will not
// count) marked `missing`.
json ReadinessFacts(const PageCall& call, const service::Readiness& r, const std::string& action) {
  json facts = json::array();
  auto add = [&](const std::string& text, bool missing) {
    facts.push_back({{"text", text}, {"missing", missing}});
  };
  if (action == "close" || action == "compute") {
    if (r.kpis_missing > 0) {
      add(Fill(call.T("confirm.missing"), {Count(r.agencies_missing), Count(r.kpis_missing),
                                           Count(r.kpis_due), Count(r.agencies)}),
          true);
    } else {
      add(call.T("confirm.none_missing"), false);
    }
    if (r.awaiting_review > 0)
      add(Fill(call.T("confirm.awaiting"), {Count(r.awaiting_review)}), true);
    add(Fill(call.T("confirm.accepted"), {Count(r.accepted)}), false);
  }
  if (action == "close") {
    add(Fill(call.T("confirm.closes_at"), {FormatDateTime(r.status.closes_at, call.lang)}), false);
  }
  if (action == "compute" && r.status.state == service::RoundState::kPreliminary) {
    add(call.T("confirm.recompute"), false);
  }
  if (action == "finalize" || action == "close-appeals") {
    if (r.status.appeal_deadline > call.clock.NowMs()) {
      add(Fill(call.T("confirm.window_open"),
               {FormatDateTime(r.status.appeal_deadline, call.lang)}),
          action == "finalize");
    }
    if (r.open_appeals > 0)
      add(Fill(call.T("confirm.open_appeals"), {Count(r.open_appeals)}), true);
    add(Fill(call.T("confirm.decided_appeals"), {Count(r.decided_appeals)}), false);
  }
  if (action == "publish") {
    add(Fill(call.T("confirm.scored"), {Count(r.agencies_scored)}), false);
    if (r.agencies_without_total > 0)
      add(Fill(call.T("confirm.without_total"), {Count(r.agencies_without_total)}), true);
  }
  return facts;
}

}  // namespace

// The confirmation step of `action` on round `round_id`: what it is, what the round lacks, and a
// form that posts the same fields again with confirm=yes.
static HttpResponse ConfirmPage(PageCall& call, const Clock& clock, int64_t round_id,
                                const std::string& action, const std::string& what,
                                const std::string& post_to, const json& hidden,
                                const std::string& back, bool with_reason) {
  auto ready = service::Results(call.db, clock).ReadinessOf(call.actor, round_id);
  if (!ready) return ErrorPage(call, ready.status());
  std::string period;
  if (auto rounds = service::Cycle(call.db, clock).Rounds()) {
    for (const auto& r : *rounds) {
      if (r.round.id == round_id) period = PeriodOf(call, r);
    }
  }
  json model = {
      {"what", what},
      {"period", period},
      {"state", call.T(std::string("round_state.") + service::RoundStateName(ready->status.state))},
      {"facts", ReadinessFacts(call, *ready, action)},
      {"action", post_to},
      {"hidden", hidden},
      {"back", back},
      {"with_reason", with_reason}};
  return RenderPage(call, "admin_confirm", model, call.T("confirm.title") + ": " + what);
}

HttpResponse Pages::AdminHome(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  auto rounds = cycle.Rounds();
  if (!rounds) return ErrorPage(call, rounds.status());
  service::Reporting reporting(call.db, clock_);
  json list = json::array();
  const int64_t now = clock_.NowMs();
  for (const auto& r : *rounds) {
    json counts = json::array();
    for (const char* status : {"draft", "approved", "submitted", "returned", "accepted"}) {
      service::QueueFilter filter;
      filter.round_id = r.round.id;
      filter.status = status;
      filter.limit = 1;
      auto page = reporting.Queue(call.actor, filter);
      if (!page) return ErrorPage(call, page.status());
      counts.push_back(
          {{"label", call.T(std::string("status.") + status)}, {"count", page->total}});
    }
    auto status = service::Cycle(call.db, clock_).StatusOf(r.round.id);
    if (!status) return ErrorPage(call, status.status());
    list.push_back({{"period", FiscalYearName(r.fiscal_year, call.lang) + " · " +
                                   KindLabel(call, r.agency_kind) + " · " +
                                   RoundName(r.round.round, call.lang)},
                    {"state", call.T(std::string("round_state.") +
                                     service::RoundStateName(status->state))},
                    {"deadline", FormatDateTime(r.round.deadline, call.lang)},
                    {"days_left", DaysLeft(r.round.deadline, now, call.lang)},
                    {"counts", counts},
                    {"queue", "/review?round=" + std::to_string(r.round.id) + "&status="}});
  }
  auto frameworks = cycle.Frameworks();
  auto agencies = service::Directory(call.db, clock_).Agencies();
  auto users = service::Directory(call.db, clock_).Users(call.actor);
  json model = {{"rounds", list},
                {"frameworks", frameworks ? frameworks->size() : 0},
                {"agencies", agencies ? agencies->size() : 0},
                {"users", users ? users->size() : 0},
                // The audit log's download form starts at the last 30 days.
                {"audit_from", DateField("audit-from", "from", call.T("sheets.from"),
                                         DateFieldText(now - 30LL * 24 * 3600 * 1000))},
                {"audit_to", DateField("audit-to", "to", call.T("sheets.to"), DateFieldText(now))}};
  return RenderPage(call, "admin_home", model, call.T("admin.title"));
}

// The directory a page at a time (every local government: ~8,000), searched, filtered and sorted
// as the public list is (Directory::ListAgencies over the directory's kept list index), with the
// import form above it.
HttpResponse Pages::AgenciesPage(PageCall& call) {
  service::Directory directory(call.db, clock_);
  service::Directory::AgencyQuery query;
  query.q = call.Query("q");
  query.kind = call.Query("kind");
  query.parent = call.Query("parent");
  const std::string sort = call.Query("sort") == "name" ? "name" : "ministry";
  query.by_name = sort == "name";
  query.descending = call.Query("dir") == "desc";
  int64_t page = PageNumber(call.Query("page"));  // bounded: page × 50 cannot overflow
  query.offset = (page - 1) * query.limit;
  // The page found in the directory's list index (kept while the directory stays as it is: a
  // deep page or a search sorted or scanned 8,000 agencies in SQL), then its agencies read.
  auto version = service::DirectoryVersion(call.db);
  if (!version) return ErrorPage(call, version.status());
  auto index = ListIndex(call.db, 0, *version);
  if (!index) return ErrorPage(call, index.status());
  auto list = directory.ListAgencies(call.actor, query, **index);
  if (!list) return ErrorPage(call, list.status());
  if (list->items.empty() && list->total > 0 && query.offset >= list->total) {
    // Past the end (an old link, a typed number): the last page instead of an empty one.
    page = (list->total + query.limit - 1) / query.limit;
    query.offset = (page - 1) * query.limit;
    list = directory.ListAgencies(call.actor, query, **index);
    if (!list) return ErrorPage(call, list.status());
  }
  json rows = json::array();
  for (size_t i = 0; i < list->items.size(); ++i) {
    const domain::Agency& a = list->items[i];
    rows.push_back({{"code", a.code},
                    {"edit", "/admin/agencies/" + UrlEncode(a.code) + "/edit"},
                    {"name", call.Pick(a.name)},
                    {"kind", KindLabel(call, a.kind)},
                    {"ministry", call.Pick(list->parent_names[i])},
                    {"email", a.email.value_or("")}});
  }
  auto kinds = directory.Kinds();
  if (!kinds) return ErrorPage(call, kinds.status());
  json kind_options = json::array();
  for (const std::string& k : *kinds) {
    kind_options.push_back(
        {{"value", k}, {"label", KindLabel(call, k)}, {"selected", k == query.kind}});
  }
  auto parents = directory.Parents();  // in Thai order already
  if (!parents) return ErrorPage(call, parents.status());
  json parent_options = json::array();
  for (const domain::Agency& p : *parents) {
    parent_options.push_back(
        {{"value", p.code}, {"label", call.Pick(p.name)}, {"selected", p.code == query.parent}});
  }
  const int64_t pages = std::max<int64_t>((list->total + query.limit - 1) / query.limit, 1);
  json model = {{"agencies", rows},
                {"count", list->total},
                {"csv", call.Field("csv")},
                {"q", query.q},
                {"kinds", kind_options},
                {"parents", parent_options},
                {"sort_value", sort},
                {"dir_value", query.descending ? "desc" : "asc"},
                {"page", page},
                {"pages", pages}};
  const std::string filters = "/admin/agencies?q=" + UrlEncode(query.q) +
                              "&kind=" + UrlEncode(query.kind) +
                              "&parent=" + UrlEncode(query.parent);
  // Each column header links to the list sorted by it (from its first page); again reverses.
  for (const char* column : {"name", "ministry"}) {
    const bool active = sort == column;
    const std::string next_dir = active && !query.descending ? "desc" : "asc";
    model["sort"][column] = {
        {"href", filters + "&sort=" + column + "&dir=" + next_dir},
        {"aria", active ? (query.descending ? "descending" : "ascending") : "none"}};
  }
  const std::string here =
      filters + "&sort=" + sort + (query.descending ? "&dir=desc" : "&dir=asc") + "&page=";
  if (page > 1) model["prev"] = here + std::to_string(page - 1);
  if (page < pages) model["next"] = here + std::to_string(page + 1);
  if (call.request.method == "POST") model["error"] = call.Field("__error");
  return RenderPage(call, "admin_agencies", model, call.T("agencies.title"),
                    call.form.count("__error") ? 400 : 200);
}

HttpResponse Pages::ImportAgencies(PageCall& call) {
  std::string text = call.Field("file");
  if (text.empty()) text = call.Field("csv");
  const std::string name = call.form.count("file.name") ? call.Field("file.name") : "agencies.csv";
  // An XLSX file beside CSV: recognised by its content (a ZIP), whatever its name says.
  auto parsed = formats::LooksLikeXlsx(text) ? formats::ParseAgenciesXlsx(text, name)
                                             : formats::ParseAgencies(text, name);
  Status s = parsed ? service::Directory(call.db, clock_).UpsertAgencies(call.actor, *parsed)
                    : parsed.status();
  if (!s.ok()) {
    call.form["__error"] = s.ToString(call.lang == Lang::kThai);
    return AgenciesPage(call);
  }
  return Redirect("/admin/agencies?done=agencies_imported");
}

HttpResponse Pages::AgencyEditor(PageCall& call) { return AgencyEditorWith(call, Status::Ok()); }

HttpResponse Pages::AgencyEditorWith(PageCall& call, const Status& error) {
  service::Directory directory(call.db, clock_);
  const bool adding = call.request.params.count("code") == 0;
  std::map<std::string, std::string> fields;
  domain::Agency stored;
  if (!adding) {
    auto found = directory.FindAgency(call.request.params.at("code"));
    if (!found) return ErrorPage(call, found.status());
    stored = *found;
  }
  const bool sent_back = !error.ok() && error.code() == StatusCode::kInvalidInput;
  if (sent_back) {
    for (const char* name : {"code", "name_th", "name_en", "kind", "parent", "email", "version"})
      fields[name] = call.Field(name);
  } else if (!adding) {
    fields = {{"code", stored.code},
              {"name_th", stored.name.th},
              {"name_en", stored.name.en},
              {"kind", stored.kind},
              {"parent", stored.parent},
              {"email", stored.email.value_or("")},
              {"version", service::Directory::AgencyVersion(stored)}};
  }
  if (!adding) fields["code"] = stored.code;  // fixed once added: others' records name it
  auto agencies = directory.Agencies();
  if (!agencies) return ErrorPage(call, agencies.status());
  auto kinds = directory.Kinds();
  if (!kinds) return ErrorPage(call, kinds.status());
  std::vector<std::string> kind_codes = {"ministry", "department", "province",
                                         "public_organization", "office", "pao",
                                         "municipality", "sao"};
  for (const std::string& k : *kinds) {
    if (std::find(kind_codes.begin(), kind_codes.end(), k) == kind_codes.end())
      kind_codes.push_back(k);
  }
  json kind_options = json::array();
  for (const std::string& k : kind_codes)
    kind_options.push_back({{"value", k}, {"label", call.T("kind." + k)}});
  // Any agency but this one may be the parent, in Thai order of the names.
  std::vector<domain::Agency> others;
  for (const domain::Agency& a : *agencies) {
    if (adding || a.code != stored.code) others.push_back(a);
  }
  ErrorBook errors;
  const json general = PlaceError(errors, error, call.Message(error));
  json form = json::array();
  if (adding) {
    form.push_back(Field(fields, errors, "code", call.T("agency_form.code"), "text",
                         call.T("agency_form.code_hint")));
  }
  form.push_back(Field(fields, errors, "name_th", call.T("agency_form.name_th"), "text"));
  form.push_back(Field(fields, errors, "name_en", call.T("agency_form.name_en"), "text"));
  form.push_back(Field(fields, errors, "kind", call.T("agency_form.kind"), "select", "", kind_options));
  form.push_back(Field(fields, errors, "parent", call.T("agency_form.parent"), "select",
                       call.T("agency_form.parent_hint"), AgencyOptions(call, others, "")));
  form.push_back(Field(fields, errors, "email", call.T("agency_form.email"), "text",
                       call.T("agency_form.email_hint")));
  const std::string action =
      adding ? "/admin/agencies/add" : "/admin/agencies/" + UrlEncode(stored.code) + "/edit";
  const std::string title =
      adding ? call.T("agency_form.add_title")
             : call.T("agency_form.edit_title") + " " + call.Pick(stored.name) + " (" + stored.code + ")";
  json model = {{"title", title},       {"adding", adding},  {"fields", form},
                {"action", action},     {"version", fields["version"]},
                {"general", general}};
  if (!adding) model["kpis_href"] = "/admin/agencies/" + UrlEncode(stored.code) + "/kpis";
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  return RenderPage(call, "admin_agency", model, title,
                    error.ok() ? 200 : HttpStatusOf(error.code()));
}

HttpResponse Pages::SaveAgency(PageCall& call) {
  const bool adding = call.request.params.count("code") == 0;
  auto trimmed = [&](const char* name) {
    std::string v = call.Field(name);
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t") + 1);
    return v;
  };
  service::AgencyForm form{adding ? trimmed("code") : call.request.params.at("code"),
                           trimmed("name_th"),
                           trimmed("name_en"),
                           call.Field("kind"),
                           call.Field("parent"),
                           call.Field("version"),
                           trimmed("email")};
  Status s = service::Directory(call.db, clock_).SaveAgency(call.actor, form, adding);
  if (!s.ok()) return AgencyEditorWith(call, s);
  return Redirect("/admin/agencies?q=" + UrlEncode(form.code) +
                  (adding ? "&done=agency_added" : "&done=agency_saved"));
}

HttpResponse Pages::UsersPage(PageCall& call) {
  service::Directory directory(call.db, clock_);
  auto users = directory.Users(call.actor);
  if (!users) return ErrorPage(call, users.status());
  auto agencies = directory.Agencies();
  if (!agencies) return ErrorPage(call, agencies.status());
  json list = json::array();
  for (const auto& u : *users) {
    list.push_back({{"username", u.username},
                    {"href", "/admin/users/" + std::to_string(u.id)},
                    {"name", u.display_name},
                    {"role", call.T(std::string("role.") + service::RoleName(u.role))},
                    {"agency", u.agency},
                    {"active", u.active}});
  }
  json roles = json::array();
  for (const char* r : {"reporter", "approver", "evaluator", "admin"}) {
    roles.push_back({{"value", r},
                     {"label", call.T(std::string("role.") + r)},
                     {"selected", call.Field("role") == r}});
  }
  json model = {{"users", list},
                {"roles", roles},
                {"agencies", AgencyOptions(call, *agencies, call.Field("agency"))},
                {"username", call.Field("username")},
                {"display_name", call.Field("display_name")}};
  if (call.form.count("__error")) model["error"] = call.Field("__error");
  return RenderPage(call, "admin_users", model, call.T("users.title"),
                    call.form.count("__error") ? 400 : 200);
}

HttpResponse Pages::CreateUser(PageCall& call) {
  service::NewUser user;
  user.username = call.Field("username");
  user.display_name = call.Field("display_name");
  user.password = call.Field("password");
  auto role = service::ParseRole(call.Field("role"));
  Status s = role.status();
  if (role) {
    user.role = *role;
    if (*role == Role::kReporter || *role == Role::kApprover) user.agency = call.Field("agency");
    auto created =
        service::Directory(call.db, clock_, options_.hasher).CreateUser(call.actor, user);
    s = created.status();
  }
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return UsersPage(call);
  }
  return Redirect("/admin/users?done=user_created");
}

HttpResponse Pages::UserPage(PageCall& call) { return UserPageWith(call, Status::Ok()); }

HttpResponse Pages::UserPageWith(PageCall& call, const Status& error) {
  service::Directory directory(call.db, clock_);
  const int64_t id = ParseId(call.request.params.at("id"));
  auto user = directory.User(call.actor, id);
  if (!user) return ErrorPage(call, user.status());
  auto agencies = directory.Agencies();
  if (!agencies) return ErrorPage(call, agencies.status());
  // The form as sent when a refusal of its values sends it back; else the user as stored (also
  // after a stale refusal: the page then shows what is stored now, with its new version).
  const bool sent_back = !error.ok() && error.code() == StatusCode::kInvalidInput &&
                         call.request.method == "POST" && call.form.count("role") > 0;
  std::map<std::string, std::string> fields;
  if (sent_back) {
    for (const char* name : {"display_name", "role", "agency", "email", "version"})
      fields[name] = call.Field(name);
  } else {
    fields = {{"display_name", user->info.display_name},
              {"role", service::RoleName(user->info.role)},
              {"agency", user->info.agency},
              {"email", user->email},
              {"version", user->version}};
  }
  ErrorBook errors;
  const json general = PlaceError(errors, error, call.Message(error));
  json roles = json::array();
  for (const char* r : {"reporter", "approver", "evaluator", "admin"})
    roles.push_back({{"value", r}, {"label", call.T(std::string("role.") + r)}});
  json form = json::array();
  form.push_back(Field(fields, errors, "display_name", call.T("users.display_name"), "text"));
  form.push_back(Field(fields, errors, "role", call.T("users.role"), "select", "", roles));
  form.push_back(Field(fields, errors, "agency", call.T("users.agency"), "select",
                       call.T("user.agency_hint"), AgencyOptions(call, *agencies, "")));
  form.push_back(Field(fields, errors, "email", call.T("user.email"), "text",
                       call.T("user.email_hint")));
  const std::string base = "/admin/users/" + std::to_string(id);
  json model = {{"username", user->info.username},
                {"active", user->info.active},
                {"self", user->info.id == call.actor.user_id},
                {"has_email", !user->email.empty()},
                {"email", user->email},
                {"created", FormatDateTime(user->created_at, call.lang)},
                {"fields", form},
                {"version", fields["version"]},
                {"stored_version", user->version},
                {"action", base},
                {"active_action", base + "/active"},
                {"reset_action", base + "/reset"},
                {"general", general}};
  const json summary = errors.Summary();
  if (!summary.empty()) model["summary"] = summary;
  const int http = error.ok() ? 200 : HttpStatusOf(error.code());
  return RenderPage(call, "admin_user", model, call.T("user.title") + " " + user->info.username,
                    http);
}

HttpResponse Pages::SaveUser(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  service::UserEdit edit;
  edit.display_name = call.Field("display_name");
  edit.agency = call.Field("agency");
  edit.email = call.Field("email");
  // Addresses are typed, and pasted with spaces around them.
  edit.email.erase(0, edit.email.find_first_not_of(" \t"));
  edit.email.erase(edit.email.find_last_not_of(" \t") + 1);
  edit.version = call.Field("version");
  auto role = service::ParseRole(call.Field("role"));
  Status s = role.ok() ? Status::Ok()
                       : Status::InvalidInput("โปรดเลือกบทบาท", "choose a role",
                                              Location{"", "role", 0});
  if (s.ok() && *role == Role::kPublic) {
    s = Status::InvalidInput("โปรดเลือกบทบาท", "choose a role", Location{"", "role", 0});
  }
  if (s.ok()) {
    edit.role = *role;
    s = service::Directory(call.db, clock_).EditUser(call.actor, id, edit);
  }
  if (!s.ok()) return UserPageWith(call, s);
  return Redirect("/admin/users/" + std::to_string(id) + "?done=user_saved");
}

HttpResponse Pages::SetUserActive(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  const std::string want = call.Field("active");
  Status s = want == "1" || want == "0"
                 ? service::Directory(call.db, clock_)
                       .SetUserActive(call.actor, id, want == "1", call.Field("version"))
                 : Status::InvalidInput("คำขอไม่ระบุว่าจะเปิดหรือปิดใช้บัญชี",
                                        "the request does not say whether to enable or disable");
  if (!s.ok()) return UserPageWith(call, s);
  return Redirect("/admin/users/" + std::to_string(id) +
                  (want == "1" ? "?done=user_enabled" : "?done=user_disabled"));
}

HttpResponse Pages::SendResetLink(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  Status s = service::PasswordResets::SendLinkFor(call.db, clock_, call.actor, id);
  if (!s.ok()) return UserPageWith(call, s);
  return Redirect("/admin/users/" + std::to_string(id) + "?done=reset_link_sent");
}

HttpResponse Pages::FrameworksPage(PageCall& call) {
  auto frameworks = service::Cycle(call.db, clock_).Frameworks();
  if (!frameworks) return ErrorPage(call, frameworks.status());
  json list = json::array();
  for (const auto& f : *frameworks) {
    list.push_back({{"id", f.id},
                    {"year", FiscalYearName(f.fiscal_year, call.lang)},
                    {"kind", KindLabel(call, f.agency_kind)},
                    {"version", f.version},
                    {"frozen", f.frozen},
                    {"imported", FormatDateTime(f.imported_at, call.lang)},
                    {"href", "/admin/frameworks/" + std::to_string(f.id)}});
  }
  json model = {{"frameworks", list}};
  if (call.form.count("__error")) {
    model["error"] = call.Field("__error");
    model["document"] = call.Field("document");
  }
  return RenderPage(call, "admin_frameworks", model, call.T("frameworks.title"),
                    call.form.count("__error") ? 400 : 200);
}

HttpResponse Pages::ImportFramework(PageCall& call) {
  std::string text = call.Field("file");
  if (text.empty()) text = call.Field("document");
  // A file's bytes come as sent: a framework is JSON text.
  auto imported =
      IsValidUtf8(text)
          ? service::Cycle(call.db, clock_).ImportFramework(call.actor, text)
          : Result<service::StoredFramework>(Status::InvalidInput(
                "ไฟล์กรอบการประเมินต้องเป็นข้อความ JSON (UTF-8)", "a framework file is JSON text (UTF-8)"));
  if (!imported) {
    call.form["__error"] = imported.status().ToString(call.lang == Lang::kThai);
    return FrameworksPage(call);
  }
  return Redirect("/admin/frameworks/" + std::to_string(imported->id) + "?done=framework_imported");
}

HttpResponse Pages::FrameworkPage(PageCall& call) {
  auto stored = service::Cycle(call.db, clock_).Framework(ParseId(call.request.params.at("id")));
  if (!stored) return ErrorPage(call, stored.status());
  const domain::Framework& fw = stored->framework;
  const std::string kpi_base = "/admin/frameworks/" + std::to_string(stored->id) + "/kpis/";
  json kpis = json::array();
  for (const domain::Kpi& kpi : fw.kpis) {
    json doc = KpiDocModel(call, fw, kpi, kpi.criteria ? &*kpi.criteria : nullptr);
    doc["edit"] = kpi_base + UrlEncode(kpi.id);
    // The sub-KPIs as agencies read them, each with its criteria table and its editor's link.
    json subs = json::array();
    std::function<void(const domain::Kpi&)> add_subs = [&](const domain::Kpi& parent) {
      for (const domain::Kpi& sub : parent.sub_kpis) {
        json d = KpiDocModel(call, fw, sub, sub.criteria ? &*sub.criteria : nullptr);
        // Every key part_kpi_doc reads is set, so that a sub-KPI never shows its parent's.
        for (const char* key : {"description", "scope", "formula", "data_source", "data_collection",
                                "benefit", "criteria"}) {
          if (!d.contains(key)) d[key] = false;
        }
        if (!d.contains("sub_kpis")) d["sub_kpis"] = json::array();
        d["edit"] = kpi_base + UrlEncode(sub.id);
        d["weight"] = ShortestDecimal(sub.weight_in_parent);
        d["parent"] = parent.id;
        subs.push_back(std::move(d));
        add_subs(sub);
      }
    };
    add_subs(kpi);
    doc["subs"] = subs;
    kpis.push_back(doc);
  }
  domain::CheckInput input;
  input.framework = &fw;
  input.framework_file = "framework.json";
  const auto findings = domain::Check(input);
  json model = {{"id", stored->id},
                {"title", call.Pick(fw.title)},
                {"year", FiscalYearName(fw.fiscal_year, call.lang)},
                {"next_year", FiscalYearName(fw.fiscal_year + 1, call.lang)},
                {"kind", KindLabel(call, fw.agency_kind)},
                {"version", stored->version},
                {"frozen", stored->frozen},
                {"kpis", kpis},
                {"findings", FindingsModel(call, findings, "")},
                {"next_year_action", "/admin/frameworks/" + std::to_string(stored->id) + "/next-year"}};
  // The difference from the version before, in words (a version made after a round froze it).
  auto previous = service::Authoring(call.db, clock_).PreviousVersion(*stored);
  if (!previous) return ErrorPage(call, previous.status());
  if (previous->has_value()) {
    json changes = json::array();
    for (const domain::FrameworkChange& c : domain::DiffFrameworks((*previous)->framework, fw)) {
      changes.push_back(call.Pick(c.text));
    }
    model["previous"] = {{"version", (*previous)->version},
                         {"href", "/admin/frameworks/" + std::to_string((*previous)->id)},
                         {"changes", changes},
                         {"none", changes.empty()}};
  }
  model["components_form"] = ComponentsModel(call, *stored);
  // A new KPI takes the number after the highest numbered one (its form: KpiEditor).
  int next_kpi = 1;
  for (const domain::Kpi& kpi : fw.kpis) {
    int n = 0;
    auto [ptr, ec] = std::from_chars(kpi.id.data(), kpi.id.data() + kpi.id.size(), n);
    if (ec == std::errc() && ptr == kpi.id.data() + kpi.id.size() && n < 100000) next_kpi = std::max(next_kpi, n + 1);
  }
  model["new_kpi_id"] = std::to_string(next_kpi);
  model["new_kpi"] = "/admin/frameworks/" + std::to_string(stored->id) + "/kpis/" + std::to_string(next_kpi) + "?new=1";
  if (call.form.count("__error")) model["error"] = call.Field("__error");
  return RenderPage(call, "admin_framework", model, call.Pick(fw.title),
                    call.form.count("__status") ? std::stoi(call.Field("__status")) : 200);
}

HttpResponse Pages::StartNextYear(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  auto started = service::Authoring(call.db, clock_).StartNextYear(call.actor, id);
  if (!started) {
    if (started.status().code() == StatusCode::kNotFound) return ErrorPage(call, started.status());
    call.form["__error"] = call.Message(started.status());
    call.form["__status"] = std::to_string(HttpStatusOf(started.status().code()));
    return FrameworkPage(call);
  }
  return Redirect("/admin/frameworks/" + std::to_string(started->id) + "?done=next_year");
}

// What the round's state means and what moves it on, in a sentence (and where to go for it).
static json NextStep(const PageCall& call, const service::RoundStatus& status, int64_t now,
                     json* link) {
  using service::RoundState;
  const std::string closes = FormatDateTime(status.closes_at, call.lang);
  switch (status.state) {
    case RoundState::kScheduled:
      return Fill(call.T("rounds.next.scheduled"),
                  {FormatDateTime(status.round.starts_at, call.lang), closes});
    case RoundState::kOpen:
      return Fill(call.T("rounds.next.open"), {closes});
    case RoundState::kClosed:
      *link = {{"href", "/admin/results"}, {"label", call.T("rounds.next.go_results")}};
      return call.T("rounds.next.closed");
    case RoundState::kPreliminary:
      *link = {{"href", "/admin/results"}, {"label", call.T("rounds.next.go_results")}};
      if (status.appeal_deadline > now) {
        return Fill(call.T("rounds.next.preliminary"),
                    {FormatDateTime(status.appeal_deadline, call.lang)});
      }
      return call.T("rounds.next.preliminary_over");
    case RoundState::kFinal:
      *link = {{"href", "/admin/results"}, {"label", call.T("rounds.next.go_results")}};
      return call.T("rounds.next.final");
    case RoundState::kPublished:
      return call.T("rounds.next.published");
  }
  return "";
}

HttpResponse Pages::RoundsPage(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  auto rounds = cycle.Rounds();
  if (!rounds) return ErrorPage(call, rounds.status());
  auto frameworks = cycle.Frameworks();
  if (!frameworks) return ErrorPage(call, frameworks.status());
  auto agencies = service::Directory(call.db, clock_).Agencies();
  if (!agencies) return ErrorPage(call, agencies.status());
  std::map<std::string, std::string> names;
  for (const auto& a : *agencies) names[a.code] = call.Pick(a.name);
  const int64_t now = clock_.NowMs();
  // A form that comes back with an error keeps the dates typed in it (and only that form).
  const bool posted = call.request.method == "POST";
  auto typed_for = [&](const std::string& action, const std::string& field,
                       const std::string& otherwise) {
    return posted && call.request.path == action ? call.Field(field) : otherwise;
  };
  json list = json::array();
  for (const auto& r : *rounds) {
    auto status = cycle.StatusOf(r.round.id);
    if (!status) return ErrorPage(call, status.status());
    using service::RoundState;
    const bool reporting = status->state == RoundState::kOpen ||
                           status->state == RoundState::kClosed ||
                           status->state == RoundState::kScheduled;
    const bool can_extend = reporting && !status->closed_early_at;
    const std::string id = std::to_string(r.round.id);
    const std::string base = "/admin/rounds/" + id;
    const std::string field_id = "ext-" + id;
    json extensions = json::array();
    if (auto granted = cycle.Extensions(r.round.id)) {
      for (const auto& e : *granted) {
        const std::string name = names.count(e.agency) ? names[e.agency] : e.agency;
        const std::string eid = field_id + "-" + HtmlId(e.agency);
        // The change form of the extension that came back with an error keeps what was typed.
        const bool this_one = posted && call.request.path == base + "/extensions" &&
                              call.Field("agency") == e.agency && call.Field("change") == "1";
        extensions.push_back(
            {{"agency", name},
             {"code", e.agency},
             {"deadline", FormatDateTime(e.deadline, call.lang)},
             {"can_remove", can_extend},
             {"change_action", base + "/extensions"},
             {"date", DateField(eid + "-date", "date", call.T("rounds.extension_date"),
                                this_one ? call.Field("date") : DateFieldText(e.deadline))},
             {"time_id", eid + "-time"},
             {"time", IsoTimeInBangkok(e.deadline)},
             {"remove_action", base + "/extensions/" + UrlEncode(e.agency) + "/remove"}});
      }
    }
    json reopenings = json::array();
    for (const auto& o : status->reopenings) {
      reopenings.push_back({{"at", FormatDateTime(o.at, call.lang)}, {"reason", o.reason}});
    }
    std::vector<domain::Agency> of_kind;
    for (const auto& a : *agencies) {
      if (a.kind == r.agency_kind) of_kind.push_back(a);
    }
    json next_link = nullptr;
    const json next = NextStep(call, *status, now, &next_link);
    const int64_t start = status->round.starts_at;
    const bool started = start == 0 || start <= now;
    const bool can_change_dates =
        status->state == RoundState::kOpen || status->state == RoundState::kScheduled;
    json row = {
        {"id", r.round.id},
        {"period", PeriodOf(call, r)},
        {"state", call.T(std::string("round_state.") + service::RoundStateName(status->state))},
        {"next", next},
        {"next_link", next_link},
        {"is_open", status->state == RoundState::kOpen},
        {"starts", start ? FormatDateTime(start, call.lang) : call.T("rounds.start_now")},
        {"deadline", FormatDateTime(r.round.deadline, call.lang)},
        {"days_left", DaysLeft(r.round.deadline, now, call.lang)},
        {"closes_at", FormatDateTime(status->closes_at, call.lang)},
        {"extensions", extensions},
        {"reopenings", reopenings},
        {"can_extend", can_extend},
        {"can_close", status->state == RoundState::kOpen},
        {"can_reopen", !can_change_dates},
        {"can_change_dates", can_change_dates},
        {"started", started},
        {"dates_action", base + "/dates"},
        {"deadline_time", IsoTimeInBangkok(r.round.deadline)},
        {"close_action", base + "/close"},
        {"reopen_action", base + "/reopen"},
        {"agencies", AgencyOptions(call, of_kind, "")},
        {"extend_action", base + "/extensions"},
        {"extend_date",
         DateField(field_id + "-date", "date", call.T("rounds.date"),
                   call.Field("change") == "1" ? "" : typed_for(base + "/extensions", "date", ""))},
        {"reopen_date", DateField(field_id + "-rdate", "date", call.T("rounds.reopen_date"),
                                  typed_for(base + "/reopen", "date", ""))},
        {"deadline_date",
         DateField(field_id + "-ddate", "date", call.T("rounds.date"),
                   typed_for(base + "/dates", "date", DateFieldText(r.round.deadline)))},
        {"field_id", field_id}};
    // The start can change only while it is ahead (Cycle::OpenRound); empty: at once.
    if (!started) {
      row["start_date"] = DateField(field_id + "-sdate", "start", call.T("rounds.start"),
                                    typed_for(base + "/dates", "start", DateFieldText(start)),
                                    false);
    }
    if (status->closed_early_at)
      row["closed_early"] = FormatDateTime(status->closed_early_at, call.lang);
    list.push_back(row);
  }
  json framework_options = json::array();
  for (const auto& f : *frameworks) {
    framework_options.push_back(
        {{"value", f.id},
         {"label", FiscalYearName(f.fiscal_year, call.lang) + " · " +
                       KindLabel(call, f.agency_kind) + " · v" + std::to_string(f.version)}});
  }
  json model = {{"rounds", list},
                {"frameworks", framework_options},
                {"open_start", DateField("r-start", "start", call.T("rounds.start"),
                                         typed_for("/admin/rounds", "start", ""), false)},
                {"open_date", DateField("r-date", "date", call.T("rounds.date"),
                                        typed_for("/admin/rounds", "date", ""))}};
  if (call.form.count("__error")) model["error"] = call.Field("__error");
  return RenderPage(call, "admin_rounds", model, call.T("rounds.title"),
                    call.form.count("__error") ? 400 : 200);
}

// The start of a round as its form gives it: "" for at once (0), else 00:00 of the day.
static Result<int64_t> StartField(const std::string& text) {
  if (text.find_first_not_of(" \t") == std::string::npos) return int64_t{0};
  return ParseDateField(text, "00:00");
}

HttpResponse Pages::OpenRound(PageCall& call) {
  auto deadline = ParseDateField(call.Field("date"), call.Field("time"));
  auto start = StartField(call.Field("start"));
  Status s = !deadline ? deadline.status() : start.status();
  if (s.ok()) {
    const int round = call.Field("round") == "6" ? 6 : 12;
    s = service::Cycle(call.db, clock_)
            .OpenRound(call.actor, ParseId(call.Field("framework")), round, *deadline, *start)
            .status();
  }
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return RoundsPage(call);
  }
  return Redirect("/admin/rounds?done=round_opened");
}

HttpResponse Pages::ChangeRoundDates(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(ParseId(call.request.params.at("id")));
  if (!round) return ErrorPage(call, round.status());
  auto deadline = ParseDateField(call.Field("date"), call.Field("time"));
  // Without a start field (the round has started: its start is fixed), the start stays.
  Result<int64_t> start = round->starts_at;
  if (call.form.count("start")) start = StartField(call.Field("start"));
  Status s = !deadline ? deadline.status() : start.status();
  if (s.ok()) {
    s = cycle.OpenRound(call.actor, round->framework_id, round->round, *deadline, *start).status();
  }
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return RoundsPage(call);
  }
  return Redirect("/admin/rounds?done=round_dates#rh-" + std::to_string(round->id));
}

HttpResponse Pages::ExtendDeadline(PageCall& call) {
  auto deadline = ParseDateField(call.Field("date"), call.Field("time"));
  Status s = deadline.status();
  if (deadline) {
    s = service::Cycle(call.db, clock_)
            .ExtendDeadline(call.actor, ParseId(call.request.params.at("id")), call.Field("agency"),
                            *deadline);
  }
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return RoundsPage(call);
  }
  return Redirect(call.Field("change") == "1" ? "/admin/rounds?done=extension_changed"
                                              : "/admin/rounds?done=extended");
}

HttpResponse Pages::RemoveExtension(PageCall& call) {
  Status s = service::Cycle(call.db, clock_)
                 .RemoveExtension(call.actor, ParseId(call.request.params.at("id")),
                                  call.request.params.at("agency"));
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return RoundsPage(call);
  }
  return Redirect("/admin/rounds?done=extension_removed");
}

HttpResponse Pages::CloseRound(PageCall& call) {
  const int64_t round = ParseId(call.request.params.at("id"));
  const std::string back =
      SafeNext(call.Field("back").empty() ? "/admin/rounds" : call.Field("back"));
  if (call.Field("confirm") != "yes") {
    return ConfirmPage(call, clock_, round, "close", call.T("rounds.close_now"),
                       "/admin/rounds/" + std::to_string(round) + "/close",
                       json::array({{{"name", "back"}, {"value", back}}}), back, true);
  }
  auto closed =
      service::Cycle(call.db, clock_).CloseReporting(call.actor, round, call.Field("reason"));
  if (!closed) return ErrorPage(call, closed.status());
  return Redirect(back + (back.find('?') == std::string::npos ? "?" : "&") + "done=round_closed");
}

HttpResponse Pages::ReopenRound(PageCall& call) {
  auto deadline = ParseDateField(call.Field("date"), call.Field("time"));
  Status s = deadline.status();
  if (deadline) {
    s = service::Cycle(call.db, clock_)
            .Reopen(call.actor, ParseId(call.request.params.at("id")), call.Field("reason"),
                    *deadline)
            .status();
  }
  if (!s.ok()) {
    call.form["__error"] = call.Message(s);
    return RoundsPage(call);
  }
  return Redirect("/admin/rounds?done=round_reopened");
}

HttpResponse Pages::ResultsAdmin(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  service::Results results(call.db, clock_);
  auto rounds = cycle.Rounds();
  if (!rounds) return ErrorPage(call, rounds.status());
  const int64_t chosen = ParseId(call.Query("round"));
  json list = json::array();
  std::string chosen_label;
  std::optional<service::StoredResult> chosen_result;
  for (const auto& r : *rounds) {
    const std::string label = FiscalYearName(r.fiscal_year, call.lang) + " · " +
                              KindLabel(call, r.agency_kind) + " · " +
                              RoundName(r.round.round, call.lang);
    auto status = cycle.StatusOf(r.round.id);
    if (!status) return ErrorPage(call, status.status());
    using service::RoundState;
    const RoundState state = status->state;
    const int64_t now = clock_.NowMs();
    int64_t open_appeals = 0;
    if (auto appeals = results.AppealsOfRound(call.actor, r.round.id)) {
      for (const auto& a : *appeals) open_appeals += a.status == "open";
    }
    const bool window_open = state == RoundState::kPreliminary && status->appeal_deadline > now;
    // Only the steps the round's state allows are offered; the service refuses the others too.
    json row = {
        {"id", r.round.id},
        {"period", label},
        {"stage", call.T(std::string("round_state.") + service::RoundStateName(state))},
        {"base", "/admin/results/" + std::to_string(r.round.id)},
        {"close_action", "/admin/rounds/" + std::to_string(r.round.id) + "/close"},
        {"view", "/admin/results?round=" + std::to_string(r.round.id)},
        {"is_open", state == RoundState::kOpen},
        {"closes_at", FormatDateTime(status->closes_at, call.lang)},
        {"can_compute", state == RoundState::kClosed},
        {"can_compute_again", state == RoundState::kPreliminary && open_appeals == 0},
        {"can_close_appeals", window_open},
        {"can_finalize", state == RoundState::kPreliminary && !window_open && open_appeals == 0},
        {"waiting_window", window_open},
        {"can_publish", state == RoundState::kFinal},
        {"is_published", state == RoundState::kPublished}};
    if (open_appeals) row["open_appeals"] = open_appeals;
    if (window_open) row["appeal_deadline"] = FormatDateTime(status->appeal_deadline, call.lang);
    // The round's newest result without its rows: when it was computed, and (the round chosen)
    // which rows its table lists.
    auto meta = results.LatestMeta(call.actor, r.round.id, service::ResultStage::kPreliminary);
    if (!meta && meta.status().code() != StatusCode::kNotFound) {
      return ErrorPage(call, meta.status());
    }
    if (meta) {
      row["computed_at"] = FormatDateTime(meta->computed_at, call.lang);
      if (r.round.id == chosen) {
        chosen_label = label;
        chosen_result = *meta;
      }
    }
    list.push_back(row);
  }
  json model = {{"rounds", list}, {"chosen", chosen_label}};
  if (chosen_result) {
    Status listed = ResultsAdminTable(call, *chosen_result, &model);
    if (!listed.ok()) return ErrorPage(call, listed);
  }
  return RenderPage(call, "admin_results", model, call.T("admin_results.title"));
}

// The agencies of the chosen round's newest result, a page of 50 at a time in SQL as the public
// list pages them (the result's list index, then that page's rows): at every local government's
// scale (8,000 agencies) the page costs what it did at 400. Sorted by score (best first, the
// default), Thai name or parent, either way; searched by code or name.
Status Pages::ResultsAdminTable(PageCall& call, const service::StoredResult& result,
                                json* model) {
  auto framework = FrozenFramework(call.db, result.framework_id);
  if (!framework) return framework.status();
  const domain::Framework& fw = (*framework)->framework;
  const std::string asked = call.Query("sort");
  const std::string sort = asked == "name" || asked == "ministry" ? asked : "score";
  service::ListQuery query;
  query.q = call.Query("q");
  query.sort = sort == "name"       ? service::ListSort::kName
               : sort == "ministry" ? service::ListSort::kParent
                                    : service::ListSort::kScore;
  // Best first unless asked otherwise: what an admin checks before publishing.
  query.descending = call.Query("dir").empty() ? sort == "score" : call.Query("dir") == "desc";
  int64_t page = PageNumber(call.Query("page"));  // bounded: page x 50 cannot overflow
  query.limit = 50;
  query.offset = (page - 1) * query.limit;
  auto version = service::DirectoryVersion(call.db);
  if (!version) return version.status();
  auto index = ListIndex(call.db, result.rows_from, *version);
  if (!index) return index.status();
  auto listed = service::ListResultAgencies(call.db, result.rows_from, query, **index);
  if (!listed) return listed.status();
  if (listed->items.empty() && listed->total > 0 && query.offset >= listed->total) {
    // Past the end (an old link, a typed number): the last page instead of an empty one.
    page = (listed->total + query.limit - 1) / query.limit;
    query.offset = (page - 1) * query.limit;
    listed = service::ListResultAgencies(call.db, result.rows_from, query, **index);
    if (!listed) return listed.status();
  }
  json rows = json::array();
  for (const service::ListedAgency& a : listed->items) {
    const bool graded = a.grade >= 0 && static_cast<size_t>(a.grade) < fw.grades.size();
    rows.push_back({{"code", a.code},
                    {"name", call.Pick({a.name_th, a.name_en})},
                    {"ministry", call.Pick({a.parent_name_th, a.parent_name_en})},
                    {"total", a.total ? FormatDecimal(*a.total, fw.decimals.total) : ""},
                    {"grade", graded ? call.Pick(fw.grades[static_cast<size_t>(a.grade)].name)
                                     : "–"}});
  }
  const int64_t pages = std::max<int64_t>((listed->total + query.limit - 1) / query.limit, 1);
  const std::string round = std::to_string(ParseId(call.Query("round")));
  (*model)["table"] = rows;
  (*model)["has_result"] = true;
  (*model)["round"] = round;
  (*model)["count"] = listed->total;
  (*model)["q"] = query.q;
  (*model)["sort_value"] = sort;
  (*model)["dir_value"] = query.descending ? "desc" : "asc";
  (*model)["page"] = page;
  (*model)["pages"] = pages;
  const std::string filters = "/admin/results?round=" + round + "&q=" + UrlEncode(query.q);
  // Each sortable header links to the table sorted by it (from its first page); again reverses.
  for (const char* column : {"name", "ministry", "score"}) {
    const bool active = sort == column;
    const std::string next_dir = active && !query.descending ? "desc" : "asc";
    (*model)["sort"][column] = {
        {"href", filters + "&sort=" + column + "&dir=" + next_dir + "#table-h"},
        {"aria", active ? (query.descending ? "descending" : "ascending") : "none"}};
  }
  const std::string here = filters + "&sort=" + sort +
                           (query.descending ? "&dir=desc" : "&dir=asc") + "&page=";
  if (page > 1) (*model)["prev"] = here + std::to_string(page - 1) + "#table-h";
  if (page < pages) (*model)["next"] = here + std::to_string(page + 1) + "#table-h";
  return Status::Ok();
}

HttpResponse Pages::ResultsAction(PageCall& call) {
  const int64_t round = ParseId(call.request.params.at("round"));
  const std::string action = call.request.params.at("action");
  if (action != "compute" && action != "finalize" && action != "publish" &&
      action != "close-appeals") {
    return ErrorPage(call, Status::NotFound("ไม่มีคำสั่งนี้", "no such action"));
  }
  int64_t days = 14;
  if (action == "compute") {
    if (!call.Field("appeal_days").empty()) days = ParseId(call.Field("appeal_days"));
    if (days < 0 || days > 365 || (days == 0 && call.Field("appeal_days") != "0")) {
      return ErrorPage(call, Status::InvalidInput("ระยะอุทธรณ์ต้องเป็น 0–365 วัน",
                                                  "the appeal window must be 0–365 days"));
    }
  }
  // Each step is confirmed first, on a page that says what the round still lacks.
  if (call.Field("confirm") != "yes") {
    const std::string key =
        action == "close-appeals" ? "admin_results.close_appeals" : "admin_results." + action;
    json hidden = json::array();
    if (action == "compute")
      hidden.push_back({{"name", "appeal_days"}, {"value", std::to_string(days)}});
    return ConfirmPage(call, clock_, round, action, call.T(key),
                       "/admin/results/" + std::to_string(round) + "/" + action, hidden,
                       "/admin/results", action == "close-appeals");
  }
  // A second connection reads the values scored from while this one stores, as through the API.
  auto reader = action == "compute" || action == "finalize" ? pool_.TryAcquire() : std::nullopt;
  service::Results results(call.db, clock_);
  if (reader) results.ReadValuesThrough(&**reader);
  Result<service::StoredResult> done = Status::NotFound("ไม่มีคำสั่งนี้", "no such action");
  if (action == "compute") {
    done = results.ComputePreliminary(call.actor, round, days * 24 * 3600 * 1000);
  } else if (action == "close-appeals") {
    done = results.CloseAppeals(call.actor, round, call.Field("reason"));
  } else if (action == "finalize") {
    done = results.Finalize(call.actor, round);
  } else if (action == "publish") {
    done = results.Publish(call.actor, round);
  }
  if (!done) return ErrorPage(call, done.status());
  return Redirect("/admin/results?round=" + std::to_string(round) + "&done=results_" +
                  (action == "close-appeals" ? std::string("close_appeals") : action));
}

}  // namespace esar::web
