#include "web/pages.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "common/thai.h"
#include "domain/engine.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/notify.h"
#include "service/history.h"
#include "service/login.h"
#include "service/reporting.h"
#include "service/result_list.h"
#include "service/results.h"
#include "web/auth.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/report_model.h"

namespace esar::web {

using nlohmann::json;
using service::Role;

namespace {

Lang LangOf(const HttpRequest& request) {
  return request.Cookie(kLangCookie) == "en" ? Lang::kEnglish : Lang::kThai;
}

// The login form's own CSRF token, before any session exists (double submit): the form carries
// it in a field and the browser in this cookie, which only this site's pages can have set. Asked
// for when a login post names no origin (no Origin or Referer) to check instead.
constexpr const char* kLoginCookie = "esar_login";

std::string LoginCookie(const std::string& token, bool secure) {
  return std::string(kLoginCookie) + "=" + token + "; Path=/login; HttpOnly; SameSite=Strict; " +
         "Max-Age=" + (token.empty() ? "0" : "7200") + (secure ? "; Secure" : "");
}

HttpResponse Unavailable() {
  HttpResponse r;
  r.status = 503;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "ระบบไม่พร้อมให้บริการชั่วคราว โปรดลองใหม่ — esar is briefly unavailable, try again";
  return r;
}

// "กรม · ปีงบประมาณ พ.ศ. 2567 · รอบ 12 เดือน"
std::string RoundLabel(const PageCall& call, const service::RoundSummary& r) {
  const std::string kind_key = "kind." + r.agency_kind;
  const std::string& kind = call.T(kind_key);
  return FiscalYearName(r.fiscal_year, call.lang) + " · " +
         (kind == kind_key ? r.agency_kind : kind) + " · " + RoundName(r.round.round, call.lang);
}

std::string KindName(const PageCall& call, const std::string& kind) {
  const std::string key = "kind." + kind;
  const std::string& name = call.T(key);
  return name == key ? kind : name;
}

// The rounds with published results (newest first), and every round by id.
struct PublishedRounds {
  std::vector<int64_t> ids;
  std::map<int64_t, service::RoundSummary> by_id;
};

Result<PublishedRounds> LoadPublishedRounds(storage::Database& db, const Clock& clock) {
  auto published = service::Results(db, clock).RoundsWithResults(service::Actor::Public(),
                                                                 service::ResultStage::kPublished);
  if (!published) return published.status();
  auto rounds = service::Cycle(db, clock).Rounds();
  if (!rounds) return rounds.status();
  PublishedRounds out;
  for (const auto& r : *rounds) out.by_id[r.round.id] = r;
  for (int64_t id : *published) {
    if (out.by_id.count(id)) out.ids.push_back(id);
  }
  return out;
}

}  // namespace

Handler Pages::Page(std::vector<Role> roles, PageHandler handler) {
  return [this, roles, handler](HttpRequest& request) -> HttpResponse {
    auto lease = pool_.Acquire();
    if (!lease) return Unavailable();
    PageCall call{request, **lease,         clock_, views_, service::Actor::Public(),
                  "",      LangOf(request), {}};
    bool stale_session = false;
    const std::string token = request.Cookie(kSessionCookie);
    if (!token.empty()) {
      auto session = service::Directory(call.db, clock_).FindSession(token);
      if (session) {
        call.actor = session->actor;
        call.csrf = session->csrf_token;
      } else {
        stale_session = true;
      }
    }
    auto finish = [&](HttpResponse r) {
      const bool sets_session =
          std::any_of(r.headers.begin(), r.headers.end(), [](const auto& header) {
            return header.first == "Set-Cookie" &&
                   header.second.rfind(std::string(kSessionCookie) + "=", 0) == 0;
          });
      // A handler that set a new session cookie must not see it deleted after it.
      if (stale_session && !sets_session) {
        r.headers.emplace_back("Set-Cookie",
                               SessionCookie("", 0, options_.secure_cookies || request.tls));
      }
      return r;
    };
    if (!roles.empty() && std::find(roles.begin(), roles.end(), call.actor.role) == roles.end()) {
      if (call.actor.user_id == 0)
        return finish(Redirect("/login?next=" + UrlEncode(request.target)));
      return finish(ErrorPage(call, service::Denied(call.actor, "เปิดหน้านี้", "open this page")));
    }
    if (request.method == "POST") {
      const std::string& type = request.Header("content-type");
      if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
        call.form = ParseUrlEncoded(request.body);
      } else if (type.rfind("multipart/form-data", 0) == 0) {
        auto fields = ParseMultipartForm(request.body, type);
        if (!fields) return finish(ErrorPage(call, fields.status()));
        call.form = std::move(*fields);
      }
      if (call.actor.user_id != 0 && !security::ConstantTimeEquals(call.Field("csrf"), call.csrf)) {
        return finish(ErrorPage(
            call, Status::PermissionDenied("แบบฟอร์มหมดอายุหรือไม่ได้มาจากหน้านี้ โปรดโหลดหน้าใหม่แล้วส่งอีกครั้ง",
                                           "the form expired or did not come from this site: "
                                           "reload the page and send it again")));
      }
    }
    try {
      return finish(handler(call));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "esar: request %s: page failed: %s\n", request.request_id.c_str(),
                   e.what());
      return finish(ErrorPage(call, Status::Internal("page failed")));
    }
  };
}

Result<std::shared_ptr<const service::ResultListIndex>> Pages::ListIndex(storage::Database& db,
                                                                         int64_t rows_from,
                                                                         int64_t version) {
  const std::pair<int64_t, int64_t> key{rows_from, version};
  {
    std::lock_guard<std::mutex> lock(lists_mutex_);
    const auto found = lists_.find(key);
    if (found != lists_.end()) return found->second;
  }
  // Built outside the lock: two requests may both build it at first; both are the same.
  auto built = rows_from == 0 ? service::ResultListIndex::BuildDirectory(db)
                              : service::ResultListIndex::Build(db, rows_from);
  if (!built) return built.status();
  std::lock_guard<std::mutex> lock(lists_mutex_);
  // A few results are listed at a time (a year's rounds); older versions are never asked again.
  if (lists_.size() >= 8) lists_.clear();
  lists_[key] = *built;
  return *built;
}

Result<std::shared_ptr<const Pages::DirectoryFilters>> Pages::CachedFilters(storage::Database& db,
                                                                            int64_t version) {
  {
    std::lock_guard<std::mutex> lock(lists_mutex_);
    if (filters_ && filters_version_ == version) return filters_;
  }
  service::Directory directory(db, clock_);
  auto parents = directory.Parents();
  if (!parents) return parents.status();
  auto kinds = directory.Kinds();
  if (!kinds) return kinds.status();
  auto shared = std::make_shared<const DirectoryFilters>(
      DirectoryFilters{std::move(*parents), std::move(*kinds)});
  std::lock_guard<std::mutex> lock(lists_mutex_);
  filters_ = shared;
  filters_version_ = version;
  return shared;
}

HttpResponse Pages::StaticFile(HttpRequest& request) const {
  const StaticAsset* asset = views_.Asset(request.params.at("name"));
  HttpResponse r;
  if (!asset) {
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ไม่พบไฟล์ — no such file";
    return r;
  }
  r.content_type = asset->content_type;
  r.headers.emplace_back("ETag", asset->etag);
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // Pages link files with ?v=<hash of the content>: such an address never changes meaning.
  r.headers.emplace_back("Cache-Control", request.query.count("v")
                                              ? "public, max-age=31536000, immutable"
                                              : "public, max-age=300");
  if (request.Header("if-none-match") == asset->etag) {
    r.status = 304;
    return r;
  }
  const bool gzip = !asset->gzipped.empty() &&
                    request.Header("accept-encoding").find("gzip") != std::string::npos;
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = asset->gzipped;
  } else {
    r.body = asset->bytes;
  }
  return r;
}

// ---- everyone ----

HttpResponse Pages::LoginForm(PageCall& call) {
  if (call.actor.user_id != 0) return Redirect("/");
  const std::string token = security::RandomToken();
  HttpResponse r = RenderPage(
      call, "login", {{"next", SafeNext(call.Query("next"))}, {"login_csrf", token}},
      call.T("login.title"));
  r.headers.emplace_back("Set-Cookie",
                         LoginCookie(token, options_.secure_cookies || call.request.tls));
  return r;
}

HttpResponse Pages::Login(HttpRequest& request) {
  const bool secure = options_.secure_cookies || request.tls;
  std::map<std::string, std::string> form;
  if (request.Header("content-type").rfind("application/x-www-form-urlencoded", 0) == 0)
    form = ParseUrlEncoded(request.body);
  auto field = [&](const char* name) {
    const auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  };
  const std::string username = field("username");
  const std::string next = SafeNext(field("next"));
  // A refusal shows the form again (with a fresh token), rendered with a connection: no password
  // is being checked by then.
  auto again = [&](const Status& status, int64_t retry_after_s) -> HttpResponse {
    auto lease = pool_.Acquire();
    if (!lease) return Unavailable();
    PageCall call{request, **lease, clock_, views_, service::Actor::Public(), "", LangOf(request),
                  form};
    const std::string token = security::RandomToken();
    HttpResponse r = RenderPage(call, "login",
                                {{"next", next},
                                 {"username", username},
                                 {"login_csrf", token},
                                 {"error", call.Message(status)}},
                                call.T("login.title"), HttpStatusOf(status.code()));
    r.headers.emplace_back("Set-Cookie", LoginCookie(token, secure));
    if (retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
    return r;
  };
  try {
    bool vouched = false;
    Status same_site = CheckSameSite(request, options_.proxy, &vouched);
    if (!same_site.ok()) return again(same_site, 0);
    const std::string cookie = request.Cookie(kLoginCookie);
    if (!vouched && (cookie.empty() || !security::ConstantTimeEquals(field("login_csrf"), cookie))) {
      return again(Status::PermissionDenied(
                       "แบบฟอร์มเข้าสู่ระบบหมดอายุหรือไม่ได้มาจากหน้านี้ โปรดลองอีกครั้ง",
                       "the login form expired or did not come from this site: try again"),
                   0);
    }
    int64_t retry_after_s = 0;
    auto session = service::Logins(pool_, clock_, *options_.hasher)
                       .Login(username, field("password"), options_.proxy.ClientAddress(request),
                              &retry_after_s);
    if (!session) return again(session.status(), retry_after_s);
    std::string home = next;
    if (home == "/") {
      switch (session->actor.role) {
        case Role::kAdmin:
          home = "/admin";
          break;
        case Role::kEvaluator:
          home = "/review";
          break;
        case Role::kReporter:
        case Role::kApprover:
          home = "/agency";
          break;
        case Role::kPublic:
          break;
      }
    }
    // Only the new session's cookie: an old, dead one is simply replaced by it.
    HttpResponse r = Redirect(home);
    r.headers.emplace_back(
        "Set-Cookie",
        SessionCookie(session->token, service::Directory::kSessionLifetimeMs / 1000, secure));
    r.headers.emplace_back("Set-Cookie", LoginCookie("", secure));
    return r;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esar: request %s: login failed: %s\n", request.request_id.c_str(),
                 e.what());
    return again(Status::Internal("login failed"), 0);
  }
}

HttpResponse Pages::Logout(PageCall& call) {
  if (call.actor.user_id != 0) {
    Status s = service::Directory(call.db, clock_).Logout(call.request.Cookie(kSessionCookie));
    if (!s.ok()) return ErrorPage(call, s);
  }
  HttpResponse r = Redirect("/?done=logged_out");
  r.headers.emplace_back("Set-Cookie",
                         SessionCookie("", 0, options_.secure_cookies || call.request.tls));
  return r;
}

// The password page: the form, and the user's API tokens with a way to revoke each.
HttpResponse Pages::PasswordPage(PageCall& call, const std::string& error, int status) {
  json model = json::object();
  if (!error.empty()) model["error"] = error;
  auto tokens = service::Directory(call.db, clock_).ApiTokens(call.actor);
  if (!tokens) return ErrorPage(call, tokens.status());
  const int64_t now = clock_.NowMs();
  json list = json::array();
  for (const service::ApiTokenInfo& t : *tokens) {
    const bool active = t.revoked_at == 0 && t.expires_at > now;
    list.push_back(
        {{"id", t.id},
         {"name", t.name},
         {"scope", call.T(std::string("token_scope.") + service::TokenScopeName(t.scope))},
         {"created", FormatDateTime(t.created_at, call.lang)},
         {"expires", FormatDateTime(t.expires_at, call.lang)},
         {"last_used", t.last_used_at ? FormatDateTime(t.last_used_at, call.lang)
                                      : call.T("tokens.never")},
         {"state", call.T(active            ? "tokens.active"
                          : t.revoked_at != 0 ? "tokens.revoked"
                                              : "tokens.expired")},
         {"active", active}});
  }
  model["has_tokens"] = !list.empty();
  model["tokens"] = list;
  // The e-mail this user gets: the address (set by the central office), language, topics.
  auto contact = service::Contacts(call.db, clock_).Get(call.actor, call.actor.user_id);
  if (contact) {
    model["mail"] = {{"email", contact->email},
                     {"has_email", !contact->email.empty()},
                     {"th", contact->language == Lang::kThai},
                     {"reminders", contact->MailOn(service::kTopicReminders)},
                     {"digest", contact->MailOn(service::kTopicDigest)},
                     {"announcements", contact->MailOn(service::kTopicAnnouncements)},
                     {"agency_user", !call.actor.agency.empty()},
                     {"evaluator", call.actor.Is(service::Role::kEvaluator)}};
  }
  return RenderPage(call, "password", model, call.T("password.title"), status);
}

HttpResponse Pages::PasswordForm(PageCall& call) { return PasswordPage(call, "", 200); }

HttpResponse Pages::ChangePassword(PageCall& call) {
  if (call.Field("new_password") != call.Field("confirm")) {
    return PasswordPage(call, call.T("password.mismatch"), 400);
  }
  Status s =
      service::Directory(call.db, clock_, options_.hasher)
          .ChangePassword(call.actor, call.Field("old_password"), call.Field("new_password"));
  if (!s.ok()) {
    HttpResponse r = PasswordPage(call, call.Message(s), HttpStatusOf(s.code()));
    if (s.code() == StatusCode::kUnavailable) {
      r.headers.emplace_back("Retry-After",
                             std::to_string(security::PasswordHasher::kRetryAfterSeconds));
    }
    return r;
  }
  return Redirect("/account/password?done=password_changed");
}

HttpResponse Pages::RevokeToken(PageCall& call) {
  auto revoked = service::Directory(call.db, clock_)
                     .RevokeApiToken(call.actor, ParseId(call.request.params.at("id")));
  if (!revoked) return ErrorPage(call, revoked.status());
  return Redirect("/account/password?done=token_revoked#tokens");
}

HttpResponse Pages::SwitchLanguage(PageCall& call) {
  const std::string lang = call.request.params.at("lang") == "en" ? "en" : "th";
  HttpResponse r = Redirect(SafeNext(call.Query("next")));
  r.headers.emplace_back("Set-Cookie", std::string(kLangCookie) + "=" + lang +
                                           "; Path=/; SameSite=Lax; Max-Age=31536000");
  return r;
}

// ---- public results ----

Result<std::shared_ptr<const service::StoredFramework>> Pages::FrozenFramework(
    storage::Database& db, int64_t id) {
  {
    std::lock_guard<std::mutex> lock(frameworks_mutex_);
    const auto found = frameworks_.find(id);
    if (found != frameworks_.end()) return found->second;
  }
  auto loaded = service::Cycle(db, clock_).Framework(id);
  if (!loaded) return loaded.status();
  auto shared = std::make_shared<const service::StoredFramework>(std::move(*loaded));
  if (shared->frozen) {
    std::lock_guard<std::mutex> lock(frameworks_mutex_);
    if (frameworks_.size() >= 256) frameworks_.clear();  // a few dozen versions a year
    frameworks_.emplace(id, shared);
  }
  return shared;
}

// The public list of a round's published results, a page of 50 at a time: searched, filtered by
// kind and parent (ministry or province), sorted by name (Thai order), parent or score, all in
// SQL over the result's rows, so that 8,000 local governments cost what 400 agencies did.
HttpResponse Pages::PublicResults(PageCall& call) {
  service::Results results(call.db, clock_);
  auto published = LoadPublishedRounds(call.db, clock_);
  if (!published) return ErrorPage(call, published.status());
  json model = {{"rounds", json::array()}};
  int64_t chosen = published->ids.empty() ? 0 : published->ids.front();
  const int64_t wanted = ParseId(call.Query("round"));
  for (int64_t id : published->ids) {
    if (wanted == id) chosen = id;
  }
  for (int64_t id : published->ids) {
    model["rounds"].push_back({{"id", id},
                               {"label", RoundLabel(call, published->by_id.at(id))},
                               {"selected", id == chosen}});
  }
  if (chosen == 0) return RenderPage(call, "public_results", model, call.T("results.title"));
  auto result =
      results.LatestMeta(service::Actor::Public(), chosen, service::ResultStage::kPublished);
  if (!result) return ErrorPage(call, result.status());
  auto framework = FrozenFramework(call.db, result->framework_id);
  if (!framework) return ErrorPage(call, framework.status());
  const domain::Framework& fw = (*framework)->framework;

  service::ListQuery query;
  query.q = call.Query("q");
  query.kind = call.Query("kind");
  query.parent = call.Query("parent");
  const std::string sort = call.Query("sort") == "name" || call.Query("sort") == "score"
                               ? call.Query("sort")
                               : "ministry";
  query.sort = sort == "name"    ? service::ListSort::kName
               : sort == "score" ? service::ListSort::kScore
                                 : service::ListSort::kParent;
  query.descending = call.Query("dir") == "desc";
  int64_t page = PageNumber(call.Query("page"));  // bounded: page × 50 cannot overflow
  query.limit = 50;
  query.offset = (page - 1) * query.limit;
  // The page found in the result's list index (kept while the result's rows and the directory
  // stay as they are), then only its rows read.
  auto version = service::DirectoryVersion(call.db);
  if (!version) return ErrorPage(call, version.status());
  auto index = ListIndex(call.db, result->rows_from, *version);
  if (!index) return ErrorPage(call, index.status());
  auto list = service::ListResultAgencies(call.db, result->rows_from, query, **index);
  if (!list) return ErrorPage(call, list.status());
  if (list->items.empty() && list->total > 0 && query.offset >= list->total) {
    // Past the end (an old link, a typed number): the last page instead of an empty one.
    page = (list->total + query.limit - 1) / query.limit;
    query.offset = (page - 1) * query.limit;
    list = service::ListResultAgencies(call.db, result->rows_from, query, **index);
    if (!list) return ErrorPage(call, list.status());
  }
  json rows = json::array();
  for (const service::ListedAgency& a : list->items) {
    const bool graded = a.grade >= 0 && static_cast<size_t>(a.grade) < fw.grades.size();
    rows.push_back(
        {{"code", a.code},
         {"name", call.Pick({a.name_th, a.name_en})},
         {"ministry", call.Pick({a.parent_name_th, a.parent_name_en})},
         {"kind", KindName(call, a.kind)},
         {"total", a.total ? FormatDecimal(*a.total, fw.decimals.total) : ""},
         {"grade", graded ? call.Pick(fw.grades[static_cast<size_t>(a.grade)].name) : "–"},
         {"href", "/results/" + std::to_string(chosen) + "/agencies/" + UrlEncode(a.code)}});
  }
  std::vector<std::pair<std::string, json>> kind_options;
  for (const std::string& k : (*index)->kinds()) {
    const std::string label = KindName(call, k);
    kind_options.push_back(
        {ThaiSortKey(label), {{"value", k}, {"label", label}, {"selected", k == query.kind}}});
  }
  std::sort(kind_options.begin(), kind_options.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  model["kinds"] = json::array();
  for (auto& k : kind_options) model["kinds"].push_back(std::move(k.second));
  auto directory_filters = CachedFilters(call.db, *version);
  if (!directory_filters) return ErrorPage(call, directory_filters.status());
  model["parents"] = json::array();
  for (const domain::Agency& p : (*directory_filters)->parents) {  // in Thai order already
    model["parents"].push_back(
        {{"value", p.code}, {"label", call.Pick(p.name)}, {"selected", p.code == query.parent}});
  }
  const int64_t pages = std::max<int64_t>((list->total + query.limit - 1) / query.limit, 1);
  model["agencies"] = rows;
  model["count"] = list->total;
  model["round"] = chosen;
  model["q"] = query.q;
  model["sort_value"] = sort;
  model["dir_value"] = query.descending ? "desc" : "asc";
  model["page"] = page;
  model["pages"] = pages;
  model["round_label"] = RoundLabel(call, published->by_id.at(chosen));
  model["reopened"] = ReopenedNote(call, chosen, result->id);
  model["zip"] = "/results/" + std::to_string(chosen) + "/reports.zip";
  // The same list as a spreadsheet (the API's download: published results, for everyone).
  const std::string exported = "/api/v1/rounds/" + std::to_string(chosen) + "/results/export?format=";
  model["results_xlsx"] = exported + "xlsx";
  model["results_csv"] = exported + "csv";
  const std::string filters = "/?round=" + std::to_string(chosen) + "&q=" + UrlEncode(query.q) +
                              "&kind=" + UrlEncode(query.kind) +
                              "&parent=" + UrlEncode(query.parent);
  // Each column header links to the list sorted by it (from its first page); again reverses.
  for (const char* column : {"name", "ministry", "score"}) {
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
  return RenderPage(call, "public_results", model, call.T("results.title"));
}

HttpResponse Pages::AgencyReport(PageCall& call) {
  auto report = BuildAgencyReport(call, ParseId(call.request.params.at("round")),
                                  call.request.params.at("code"), Loader());
  if (!report) return ErrorPage(call, report.status());
  const std::string title = report->model["name"].get<std::string>();
  return RenderPage(call, "agency_report", std::move(report->model), title);
}

// The dashboard is a view of published results (whose rows never change, and whose frameworks
// are frozen), the directory's names, kinds and parents, and earlier years' imported results. So
// its model is kept per language and period until one of those moves, and rebuilt from the rows
// then: the key holds the newest published result and their number, and the newest audit entry
// of the agencies and of the imported results (every change to either is audited under that
// entity: Directory::UpsertAgencies, History::ImportResults). Reports, reviews, users and other
// rounds' work move none of these, so they no longer cost a rebuild (~1.2 s at 8,000 agencies).
// The key is read from the database on every request, so a change made by another server (or
// the command line) is seen at once. The answer says whether it was kept (X-Cache: hit).
HttpResponse Pages::Glossary(PageCall& call) {
  return RenderPage(call, "glossary", json::object(), call.T("glossary.title"));
}

HttpResponse Pages::Dashboard(PageCall& call) {
  auto version = call.db.Query(
      "SELECT (SELECT COALESCE(MAX(id), 0) FROM results WHERE stage = 'published'), "
      "(SELECT COUNT(*) FROM results WHERE stage = 'published'), "
      "(SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE entity = 'agencies'), "
      "(SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE entity = 'past_results')");
  if (!version) return ErrorPage(call, version.status());
  const storage::Row& v = (*version)[0];
  const std::string key = std::string(call.lang == Lang::kThai ? "th" : "en") + "|" +
                          std::to_string(v.Int(0)) + "|" + std::to_string(v.Int(1)) + "|" +
                          std::to_string(v.Int(2)) + "|" + std::to_string(v.Int(3)) + "|" +
                          call.Query("period");
  {
    std::lock_guard<std::mutex> lock(dashboards_mutex_);
    const auto found = dashboards_.find(key);
    if (found != dashboards_.end()) {
      HttpResponse kept = RenderPage(call, "dashboard", *found->second, call.T("dashboard.title"));
      kept.headers.emplace_back("X-Cache", "hit");
      return kept;
    }
  }
  json model;
  HttpResponse response = BuildDashboard(call, &model);
  if (response.status == 200 && !model.is_null()) {
    std::lock_guard<std::mutex> lock(dashboards_mutex_);
    if (dashboards_.size() >= 64) dashboards_.clear();  // two languages x a few periods
    dashboards_[key] = std::make_shared<const json>(std::move(model));
  }
  response.headers.emplace_back("X-Cache", "miss");
  return response;
}

HttpResponse Pages::BuildDashboard(PageCall& call, json* model_out) {
  service::Cycle cycle(call.db, clock_);
  auto published = LoadPublishedRounds(call.db, clock_);
  if (!published) return ErrorPage(call, published.status());
  const auto& by_id = published->by_id;
  // A dashboard covers one fiscal year and round length, every kind of agency together.
  std::set<std::pair<int, int>> periods;  // (fiscal year, round)
  for (int64_t id : published->ids) {
    periods.insert({by_id.at(id).fiscal_year, by_id.at(id).round.round});
  }
  json model = {{"periods", json::array()}, {"chart", true}};
  if (periods.empty()) {
    *model_out = model;
    return RenderPage(call, "dashboard", model, call.T("dashboard.title"));
  }
  std::pair<int, int> chosen = *periods.rbegin();
  for (const auto& p : periods) {
    if (call.Query("period") == std::to_string(p.first) + "-" + std::to_string(p.second))
      chosen = p;
  }
  for (auto it = periods.rbegin(); it != periods.rend(); ++it) {
    model["periods"].push_back(
        {{"value", std::to_string(it->first) + "-" + std::to_string(it->second)},
         {"label", FiscalYearName(it->first, call.lang) + " · " + RoundName(it->second, call.lang)},
         {"selected", *it == chosen}});
  }
  auto agencies = service::Directory(call.db, clock_).Agencies();
  if (!agencies) return ErrorPage(call, agencies.status());
  std::map<std::string, std::string> names;
  for (const auto& a : *agencies) names[a.code] = call.Pick(a.name);

  // A period's published results, each with its framework and number of agencies. Their rows are
  // read in aggregates and one line at a time (Results::EachTotal, KpiLevels): a round of every
  // local government is never held whole.
  service::Results results(call.db, clock_);
  struct Published {
    service::StoredResult meta;
    domain::Framework framework;
    int64_t agencies = 0;
  };
  auto published_in = [&](std::pair<int, int> period) -> Result<std::vector<Published>> {
    std::vector<Published> out;
    for (int64_t id : published->ids) {
      const service::RoundSummary& round = by_id.at(id);
      if (round.fiscal_year != period.first || round.round.round != period.second) continue;
      auto meta =
          results.LatestMeta(service::Actor::Public(), id, service::ResultStage::kPublished);
      if (!meta) continue;
      auto fw = cycle.Framework(round.round.framework_id);
      if (!fw) return fw.status();
      out.push_back({*meta, std::move(fw->framework), 0});
    }
    return out;
  };
  // The grade as the frozen framework names it in the page's language ("" for none).
  auto grade_name = [&](const domain::Framework& fw, int grade) {
    return grade >= 0 && static_cast<size_t>(grade) < fw.grades.size()
               ? call.Pick(fw.grades[static_cast<size_t>(grade)].name)
               : std::string();
  };
  auto before_results = published_in({chosen.first - 1, chosen.second});
  if (!before_results) return ErrorPage(call, before_results.status());
  std::map<std::string, double> last_year;
  for (const Published& p : *before_results) {
    Status read =
        results.EachTotal(service::Actor::Public(), p.meta, [&](const service::TotalLine& line) {
          last_year[line.code] = line.total.value_or(0);
          return Status::Ok();
        });
    if (!read.ok()) return ErrorPage(call, read);
  }
  // The year before from every source: esar's own publications (above) and the results loaded
  // by `esar import results` for a year evaluated outside esar; by KPI key for shared KPIs.
  service::History::PastFilter year_before;
  year_before.year = chosen.first - 1;
  year_before.round = chosen.second;
  auto past = service::History(call.db, clock_).PastResults(year_before);
  if (!past) return ErrorPage(call, past.status());
  std::map<std::string, std::map<std::string, double>> last_year_scores;  // key -> agency -> score
  for (const domain::PastResult& p : *past) {
    if (p.fiscal_year != chosen.first - 1 || p.round != chosen.second || !p.score) continue;
    if (p.kpi_key.empty()) {
      last_year.emplace(p.agency, *p.score);  // esar's own publication, when there is one, stays
    } else if (p.source == domain::PastSource::kPublished ||
               !last_year_scores[p.kpi_key].count(p.agency)) {
      last_year_scores[p.kpi_key][p.agency] = *p.score;
    }
  }

  // Every agency of the period, one line at a time, into the sums the page shows (a total
  // missing counts as 0, as the published lists show it).
  auto now_results = published_in(chosen);
  if (!now_results) return ErrorPage(call, now_results.status());
  struct Sum {
    double total = 0, before = 0;
    int n = 0, n_before = 0;
  };
  std::map<std::string, Sum> by_parent, by_kind;
  std::map<std::string, int> grade_count;
  int64_t agency_count = 0;
  double sum = 0, sum_before = 0;
  int n_before = 0, improved = 0;
  for (Published& p : *now_results) {
    Status read =
        results.EachTotal(service::Actor::Public(), p.meta, [&](const service::TotalLine& line) {
          const double total = line.total.value_or(0);
          ++p.agencies;
          ++agency_count;
          grade_count[grade_name(p.framework, line.grade)]++;
          const auto before = last_year.find(line.code);
          for (Sum* s : {&by_parent[line.parent], &by_kind[line.kind]}) {
            s->total += total;
            s->n++;
            if (before == last_year.end()) continue;
            s->before += before->second;
            s->n_before++;
          }
          sum += total;
          if (before != last_year.end()) {
            sum_before += before->second;
            n_before++;
            improved += total > before->second;
          }
          return Status::Ok();
        });
    if (!read.ok()) return ErrorPage(call, read);
  }

  // Grades: in the order the frameworks list them (best first).
  std::vector<std::string> grade_order;
  for (const Published& p : *now_results) {
    for (const auto& g : p.framework.grades) {
      const std::string name = call.Pick(g.name);
      if (std::find(grade_order.begin(), grade_order.end(), name) == grade_order.end())
        grade_order.push_back(name);
    }
  }
  auto percent = [&](int n) {
    return agency_count == 0
               ? 0
               : static_cast<int>(100.0 * n / static_cast<double>(agency_count) + 0.5);
  };
  json grades = json::array();
  for (const auto& g : grade_order) {
    const int n = grade_count[g];
    grades.push_back({{"name", g}, {"count", n}, {"percent", percent(n)}});
  }
  if (grade_count.count("")) {
    grades.push_back({{"name", call.T("dashboard.no_grade")},
                      {"count", grade_count[""]},
                      {"percent", percent(grade_count[""])}});
  }
  auto averages = [&](const std::map<std::string, Sum>& sums, auto label_of) {
    std::vector<std::pair<std::string, json>> rows;
    for (const auto& [key, group] : sums) {
      const double average = group.total / group.n;
      json row = {{"name", label_of(key)}, {"count", group.n}, {"average", Number(average, 2)}};
      if (group.n_before) {
        const double change = average - group.before / group.n_before;
        row["change"] = (change >= 0 ? "+" : "") + Number(change, 2);
        row["up"] = change >= 0;
      }
      rows.push_back({ThaiSortKey(row["name"].get<std::string>()), row});
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    json out = json::array();
    for (auto& r : rows) out.push_back(std::move(r.second));
    return out;
  };
  model["by_ministry"] = averages(by_parent, [&](const std::string& code) {
    return code.empty() ? call.T("dashboard.no_ministry")
                        : (names.count(code) ? names[code] : code);
  });
  model["by_kind"] =
      averages(by_kind, [&](const std::string& kind) { return KindName(call, kind); });
  model["agency_count"] = agency_count;
  model["average"] = agency_count == 0 ? "–" : Number(sum / static_cast<double>(agency_count), 2);
  model["grades"] = grades;
  if (n_before) {
    model["previous"] = {{"year", chosen.first - 1},
                         {"compared", n_before},
                         {"improved", improved},
                         {"average_before", Number(sum_before / n_before, 2)}};
  }
  // Shared KPIs: those scored (or missing) for every agency of a framework's result, counted
  // by level in SQL (Results::KpiLevels).
  json shared = json::array();
  for (const Published& p : *now_results) {
    if (p.agencies == 0) continue;
    const domain::Framework& fw = p.framework;
    auto levels_read = results.KpiLevels(service::Actor::Public(), p.meta);
    if (!levels_read) return ErrorPage(call, levels_read.status());
    struct Counted {
      std::vector<int64_t> levels;  // [0] = below the first level
      int64_t counted = 0;          // rows neither exempt nor monitoring
      int64_t scores = 0;
      double score_sum = 0;
    };
    std::map<std::string, Counted> of_kpi;
    for (const service::KpiLevelCount& c : *levels_read) {
      Counted& k = of_kpi[c.kpi];
      if (k.levels.empty()) k.levels.assign(fw.levels.size() + 1, 0);
      if (c.status == "exempt" || c.status == "monitoring") continue;
      k.counted += c.count;
      // Levels are 1-based (as published), 0 below the first: counts[level] then.
      k.levels[static_cast<size_t>(std::clamp(c.level, 0, static_cast<int>(fw.levels.size())))] +=
          c.count;
      if (c.status != "scored") continue;
      k.scores += c.scores;
      k.score_sum += c.score_sum;
    }
    Status failed = Status::Ok();
    std::function<void(const std::vector<domain::Kpi>&)> walk = [&](const std::vector<domain::Kpi>&
                                                                        kpis) {
      for (const domain::Kpi& kpi : kpis) {
        const auto found = of_kpi.find(kpi.id);
        // Every agency of the result has a row for it, none exempt or monitoring.
        if (found != of_kpi.end() && found->second.counted == p.agencies && kpi.criteria) {
          const Counted& k = found->second;
          json levels = json::array();
          levels.push_back({{"name", call.T("dashboard.below_basic")}, {"count", k.levels[0]}});
          for (size_t l = 0; l < fw.levels.size(); ++l)
            levels.push_back({{"name", call.Pick(fw.levels[l].name)}, {"count", k.levels[l + 1]}});
          json entry = {{"id", kpi.id}, {"name", call.Pick(kpi.name)}, {"levels", levels}};
          if (k.scores)
            entry["average"] =
                Number(k.score_sum / static_cast<double>(k.scores), fw.decimals.score);
          // The change from the year before: the average score of the agencies scored both
          // years, this year's less last year's (found by the KPI's key).
          const auto before_scores = last_year_scores.find(kpi.key);
          double sum_change = 0;
          int n_both = 0;
          if (failed.ok() && !kpi.key.empty() && before_scores != last_year_scores.end()) {
            failed = results.EachKpiScore(service::Actor::Public(), p.meta, kpi.id,
                                          [&](const std::string& agency, double score) {
                                            const auto then = before_scores->second.find(agency);
                                            if (then == before_scores->second.end())
                                              return Status::Ok();
                                            sum_change += score - then->second;
                                            ++n_both;
                                            return Status::Ok();
                                          });
          }
          if (n_both) {
            const double change = sum_change / n_both;
            entry["change"] = (change >= 0 ? "+" : "") + Number(change, fw.decimals.score);
            entry["up"] = change >= 0;
            entry["compared"] = n_both;
          }
          shared.push_back(entry);
        }
        walk(kpi.sub_kpis);
      }
    };
    walk(fw.kpis);
    if (!failed.ok()) return ErrorPage(call, failed);
  }
  model["shared"] = shared;
  json chart = {{"labels", json::array()}, {"counts", json::array()}};
  for (const auto& g : grades) {
    chart["labels"].push_back(g["name"]);
    chart["counts"].push_back(g["count"]);
  }
  model["chart_data"] = chart.dump();
  model["chart_label"] = call.T("dashboard.agencies");
  *model_out = model;
  return RenderPage(call, "dashboard", model, call.T("dashboard.title"));
}

void Pages::Register(Router& router) {
  const std::vector<Role> anyone;
  const std::vector<Role> users = {Role::kAdmin, Role::kEvaluator, Role::kReporter,
                                   Role::kApprover};
  const std::vector<Role> agency = {Role::kReporter, Role::kApprover};
  const std::vector<Role> reviewers = {Role::kEvaluator, Role::kAdmin};
  const std::vector<Role> admin = {Role::kAdmin};
  auto bind = [this](HttpResponse (Pages::*method)(PageCall&)) {
    return [this, method](PageCall& call) { return (this->*method)(call); };
  };
  router.Add("GET", "/static/{name}", [this](HttpRequest& r) { return StaticFile(r); });
  // Browsers ask for /favicon.ico whatever the page says: the same icon the pages link.
  router.Add("GET", "/favicon.ico", [this](HttpRequest& r) {
    r.params["name"] = "favicon.svg";
    return StaticFile(r);
  });
  // An address no route has: a page in the user's language under the site's menu, except under
  // /api, where programs expect the JSON error.
  router.SetFallback([this, page = Page(anyone, [](PageCall& call) {
                        return ErrorPage(call, Status::NotFound("ไม่พบหน้าที่ขอ", "no such page"));
                      })](HttpRequest& r) {
    if (r.path == "/api" || r.path.rfind("/api/", 0) == 0)
      return ErrorResponse(Status::NotFound("ไม่พบหน้าที่ขอ", "no such page"));
    return page(r);
  });
  router.Add("GET", "/", Page(anyone, bind(&Pages::PublicResults)));
  router.Add("GET", "/results/{round}/agencies/{code}", Page(anyone, bind(&Pages::AgencyReport)));
  // The report files: the page's download buttons and the same under /api/v1 (errors as JSON).
  auto file = [this](HttpResponse (Pages::*method)(PageCall&, bool), bool api) {
    return [this, method, api](PageCall& call) {
      // The API names the round {id}, as its other round routes do.
      const auto id = call.request.params.find("id");
      if (id != call.request.params.end()) call.request.params["round"] = id->second;
      return (this->*method)(call, api);
    };
  };
  router.Add("GET", "/results/{round}/agencies/{code}/report.pdf",
             Page(anyone, file(&Pages::AgencyReportPdf, false)));
  router.Add("GET", "/results/{round}/reports.zip", Page(anyone, file(&Pages::RoundReportsZip, false)));
  router.Add("GET", "/verify/{hash}", Page(anyone, file(&Pages::Verify, false)));
  router.Add("GET", "/reports/national", Page(anyone, bind(&Pages::NationalReport)));
  // The national report's files: from the page, and under /api/v1 with errors as JSON.
  auto national = [this](bool xlsx, bool api) {
    return [this, xlsx, api](PageCall& call) { return NationalReportFile(call, xlsx, api); };
  };
  router.Add("GET", "/reports/national/{year}/report.pdf", Page(anyone, national(false, false)));
  router.Add("GET", "/reports/national/{year}/report.xlsx", Page(anyone, national(true, false)));
  router.Add("GET", "/api/v1/reports/national/{year}/report.pdf", Page(anyone, national(false, true)));
  router.Add("GET", "/api/v1/reports/national/{year}/report.xlsx", Page(anyone, national(true, true)));
  router.Add("GET", "/api/v1/rounds/{id}/results/agencies/{code}/report.pdf",
             Page(anyone, file(&Pages::AgencyReportPdf, true)));
  router.Add("GET", "/api/v1/rounds/{id}/results/reports.zip",
             Page(anyone, file(&Pages::RoundReportsZip, true)));
  router.Add("GET", "/api/v1/verify/{hash}", Page(anyone, file(&Pages::Verify, true)));
  router.Add("GET", "/dashboard", Page(anyone, bind(&Pages::Dashboard)));
  router.Add("GET", "/glossary", Page(anyone, bind(&Pages::Glossary)));
  router.Add("GET", "/login", Page(anyone, bind(&Pages::LoginForm)));
  router.Add("POST", "/login", [this](HttpRequest& r) { return Login(r); });
  router.Add("POST", "/logout", Page(users, bind(&Pages::Logout)));
  router.Add("GET", "/password/forgot", Page(anyone, bind(&Pages::ForgotForm)));
  router.Add("POST", "/password/forgot", Page(anyone, bind(&Pages::RequestReset)));
  router.Add("GET", "/password/reset", Page(anyone, bind(&Pages::ResetForm)));
  router.Add("POST", "/password/reset", Page(anyone, bind(&Pages::ResetPassword)));
  router.Add("GET", "/account/password", Page(users, bind(&Pages::PasswordForm)));
  router.Add("POST", "/account/password", Page(users, bind(&Pages::ChangePassword)));
  router.Add("POST", "/account/tokens/{id}/revoke", Page(users, bind(&Pages::RevokeToken)));
  router.Add("POST", "/account/preferences", Page(users, bind(&Pages::SavePreferences)));
  router.Add("GET", "/notifications", Page(users, bind(&Pages::Notifications)));
  router.Add("POST", "/notifications/read", Page(users, bind(&Pages::MarkNotificationsRead)));
  router.Add("GET", "/admin/outbox", Page(admin, bind(&Pages::OutboxPage)));
  router.Add("GET", "/admin/audit", Page(admin, bind(&Pages::AuditTrail)));
  router.Add("POST", "/admin/outbox/{id}/resend", Page(admin, bind(&Pages::ResendMail)));
  router.Add("GET", "/lang/{lang}", Page(anyone, bind(&Pages::SwitchLanguage)));

  router.Add("GET", "/agency", Page(agency, bind(&Pages::AgencyHome)));
  router.Add("GET", "/agency/rounds/{round}/kpis/{kpi}", Page(agency, bind(&Pages::KpiForm)));
  router.Add("POST", "/agency/rounds/{round}/kpis/{kpi}", Page(agency, bind(&Pages::SaveKpi)));
  router.Add("GET", "/agency/rounds/{round}/kpis/{kpi}/whatif",
             Page(agency, bind(&Pages::WhatIfLine)));
  router.Add("POST", "/agency/submissions/{id}/approve",
             Page(agency, bind(&Pages::ApproveOrSubmit)));
  router.Add("POST", "/agency/submissions/{id}/submit",
             Page(agency, bind(&Pages::ApproveOrSubmit)));
  router.Add("POST", "/agency/rounds/{round}/submit-all",
             Page({Role::kApprover}, bind(&Pages::SubmitAll)));
  router.Add("POST", "/agency/submissions/{id}/send-back",
             Page(agency, bind(&Pages::ApproveOrSubmit)));
  router.AddUpload("POST", "/agency/submissions/{id}/evidence", EvidenceForm());
  router.AddUpload("POST", "/agency/rounds/{round}/kpis/{kpi}/evidence", KpiEvidenceForm());
  router.Add("POST", "/agency/evidence/{id}/remove",
             Page({Role::kReporter}, bind(&Pages::RemoveEvidence)));
  router.AddUpload("POST", "/agency/rounds/{id}/kpis/{kpi}/case-log", CaseLogForm());
  router.Add("POST", "/agency/rounds/{round}/template", Page(agency, bind(&Pages::UploadTemplate)));
  router.Add("GET", "/case-logs/{id}",
             Page({Role::kReporter, Role::kApprover, Role::kEvaluator, Role::kAdmin},
                  bind(&Pages::CaseLogList)));
  router.AddUpload("POST", "/agency/rounds/{id}/kpis/{kpi}/catalog", CatalogForm());
  router.Add("GET", "/catalogs/{id}",
             Page({Role::kReporter, Role::kApprover, Role::kEvaluator, Role::kAdmin},
                  bind(&Pages::CatalogList)));
  router.Add("GET", "/agency/results", Page(agency, bind(&Pages::AgencyResults)));
  router.Add("POST", "/agency/results/{result}/appeals", Page(agency, bind(&Pages::FileAppeal)));

  router.Add("GET", "/review", Page(reviewers, bind(&Pages::Queue)));
  router.Add("GET", "/review/submissions/{id}", Page(reviewers, bind(&Pages::ReviewForm)));
  router.Add("POST", "/review/submissions/{id}", Page(reviewers, bind(&Pages::Review)));
  router.Add("POST", "/review/accept-many", Page(reviewers, bind(&Pages::AcceptMany)));
  router.Add("GET", "/review/appeals", Page(reviewers, bind(&Pages::AppealsList)));
  router.Add("POST", "/review/appeals/{id}", Page(reviewers, bind(&Pages::DecideAppeal)));

  router.Add("GET", "/qa", Page(anyone, bind(&Pages::QaIndex)));
  router.Add("GET", "/qa/{year}/{kind}", Page(anyone, bind(&Pages::QaCycle)));
  router.Add("GET", "/agency/questions", Page(agency, bind(&Pages::AgencyQuestions)));
  router.Add("POST", "/agency/questions", Page(agency, bind(&Pages::AskQuestion)));
  router.Add("GET", "/admin/questions", Page(admin, bind(&Pages::AdminQuestions)));
  router.Add("GET", "/review/questions", Page(reviewers, bind(&Pages::AdminQuestions)));
  router.Add("GET", "/admin/questions/{id}", Page(admin, bind(&Pages::AdminQuestion)));
  router.Add("POST", "/admin/questions/{id}", Page(admin, bind(&Pages::AnswerQuestion)));
  router.Add("GET", "/admin/announcements", Page(admin, bind(&Pages::AdminAnnouncements)));
  router.Add("POST", "/admin/announcements", Page(admin, bind(&Pages::PostAnnouncement)));
  router.AddUpload("POST", "/admin/announcements/{id}/files", AnnouncementFileForm());
  router.Add("GET", "/admin/announcements/{id}", Page(admin, bind(&Pages::AnnouncementEditor)));
  router.Add("POST", "/admin/announcements/{id}", Page(admin, bind(&Pages::EditAnnouncement)));
  router.Add("POST", "/admin/announcements/{id}/delete",
             Page(admin, bind(&Pages::DeleteAnnouncement)));
  router.Add("POST", "/admin/announcement-files/{id}/remove",
             Page(admin, bind(&Pages::RemoveAnnouncementFile)));

  router.Add("GET", "/admin", Page(admin, bind(&Pages::AdminHome)));
  router.Add("GET", "/admin/agencies", Page(admin, bind(&Pages::AgenciesPage)));
  router.Add("POST", "/admin/agencies", Page(admin, bind(&Pages::ImportAgencies)));
  router.Add("GET", "/admin/agencies/add", Page(admin, bind(&Pages::AgencyEditor)));
  router.Add("POST", "/admin/agencies/add", Page(admin, bind(&Pages::SaveAgency)));
  router.Add("GET", "/admin/agencies/{code}/edit", Page(admin, bind(&Pages::AgencyEditor)));
  router.Add("POST", "/admin/agencies/{code}/edit", Page(admin, bind(&Pages::SaveAgency)));
  router.Add("GET", "/admin/agencies/{code}/kpis", Page(admin, bind(&Pages::AgencyKpis)));
  router.Add("POST", "/admin/agencies/{code}/kpis", Page(admin, bind(&Pages::SaveAgencyKpis)));
  router.Add("GET", "/admin/assignments", Page(admin, bind(&Pages::GroupKpis)));
  router.Add("POST", "/admin/assignments", Page(admin, bind(&Pages::SaveGroupKpis)));
  router.Add("GET", "/admin/users", Page(admin, bind(&Pages::UsersPage)));
  router.Add("POST", "/admin/users", Page(admin, bind(&Pages::CreateUser)));
  router.Add("GET", "/admin/users/{id}", Page(admin, bind(&Pages::UserPage)));
  router.Add("POST", "/admin/users/{id}", Page(admin, bind(&Pages::SaveUser)));
  router.Add("POST", "/admin/users/{id}/active", Page(admin, bind(&Pages::SetUserActive)));
  router.Add("POST", "/admin/users/{id}/reset", Page(admin, bind(&Pages::SendResetLink)));
  router.Add("GET", "/admin/frameworks", Page(admin, bind(&Pages::FrameworksPage)));
  router.Add("POST", "/admin/frameworks", Page(admin, bind(&Pages::ImportFramework)));
  router.Add("GET", "/admin/frameworks/{id}", Page(admin, bind(&Pages::FrameworkPage)));
  router.Add("POST", "/admin/frameworks/{id}/next-year", Page(admin, bind(&Pages::StartNextYear)));
  router.Add("POST", "/admin/frameworks/{id}/components", Page(admin, bind(&Pages::SaveComponents)));
  router.Add("GET", "/admin/frameworks/{id}/kpis/{kpi}", Page(admin, bind(&Pages::KpiEditor)));
  router.Add("POST", "/admin/frameworks/{id}/kpis/{kpi}",
             Page(admin, bind(&Pages::SaveKpiDefinition)));
  router.Add("GET", "/admin/frameworks/{id}/kpis/{kpi}/remove",
             Page(admin, bind(&Pages::RemoveSubKpiPage)));
  router.Add("POST", "/admin/frameworks/{id}/kpis/{kpi}/remove",
             Page(admin, bind(&Pages::RemoveSubKpi)));
  router.Add("GET", "/admin/rounds", Page(admin, bind(&Pages::RoundsPage)));
  router.Add("POST", "/admin/rounds", Page(admin, bind(&Pages::OpenRound)));
  router.Add("POST", "/admin/rounds/{id}/dates", Page(admin, bind(&Pages::ChangeRoundDates)));
  router.Add("POST", "/admin/rounds/{id}/extensions", Page(admin, bind(&Pages::ExtendDeadline)));
  router.Add("POST", "/admin/rounds/{id}/extensions/{agency}/remove",
             Page(admin, bind(&Pages::RemoveExtension)));
  router.Add("POST", "/admin/rounds/{id}/close", Page(admin, bind(&Pages::CloseRound)));
  router.Add("POST", "/admin/rounds/{id}/reopen", Page(admin, bind(&Pages::ReopenRound)));
  router.Add("GET", "/admin/results", Page(admin, bind(&Pages::ResultsAdmin)));
  router.Add("POST", "/admin/results/{round}/{action}", Page(admin, bind(&Pages::ResultsAction)));
}

}  // namespace esar::web
