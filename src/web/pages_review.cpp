// The evaluators' pages: the queue of submissions, the review of one (reported and verified
// values side by side, a note on each evidence file, accept or return), and appeals.

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "common/thai.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "service/results.h"
#include "web/pages_cases.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"

namespace esar::web {

using nlohmann::json;
using service::SubmissionStatus;

json EvidenceList(const PageCall& call, const service::SubmissionView& s);
json ReviewList(const PageCall& call, const service::SubmissionView& s);

namespace {

// Frameworks by round, each looked up once per request; frozen ones come from the process's
// parsed copies (Pages::FrozenFramework): a framework naming 8,000 agencies took milliseconds to
// parse on every queue page.
class FrameworkCache {
 public:
  using Loader =
      std::function<Result<std::shared_ptr<const service::StoredFramework>>(int64_t framework_id)>;
  FrameworkCache(storage::Database& db, const Clock& clock, Loader load)
      : cycle_(db, clock), load_(std::move(load)) {}
  const domain::Framework* ForRound(int64_t round_id) {
    auto found = by_round_.find(round_id);
    if (found != by_round_.end()) return found->second ? &found->second->framework : nullptr;
    auto round = cycle_.Round(round_id);
    std::shared_ptr<const service::StoredFramework> framework;
    if (round) {
      if (auto stored = load_(round->framework_id)) framework = *stored;
    }
    auto [at, inserted] = by_round_.emplace(round_id, std::move(framework));
    return at->second ? &at->second->framework : nullptr;
  }

 private:
  service::Cycle cycle_;
  Loader load_;
  std::map<int64_t, std::shared_ptr<const service::StoredFramework>> by_round_;
};

}  // namespace

// "อีก 3 วัน" / "ครบกำหนดวันนี้" / "เลยกำหนด 2 วัน": calendar days in Bangkok between today and the
// deadline's day (a deadline at the end of its day is still "today" all that day).
static std::string DaysToDeadline(const PageCall& call, int64_t deadline, int64_t now) {
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  constexpr int64_t kBangkokMs = 7LL * 3600 * 1000;
  auto day = [](int64_t ms) {
    const int64_t local = ms + kBangkokMs;
    return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
  };
  const int64_t days = day(deadline) - day(now);
  if (days == 0) return call.T("queue.due_today");
  std::string text = call.T(days > 0 ? "queue.days_left" : "queue.days_late");
  const size_t at = text.find("{n}");
  if (at != std::string::npos) text.replace(at, 3, std::to_string(days > 0 ? days : -days));
  return text;
}

HttpResponse Pages::Queue(PageCall& call) {
  service::Cycle cycle(call.db, clock_);
  auto rounds = cycle.Rounds();
  if (!rounds) return ErrorPage(call, rounds.status());
  // Only what the filters offer is read here, the parents and kinds, not every agency: kept
  // while the directory stays as it is.
  auto version = service::DirectoryVersion(call.db);
  if (!version) return ErrorPage(call, version.status());
  auto directory_filters = CachedFilters(call.db, *version);
  if (!directory_filters) return ErrorPage(call, directory_filters.status());
  const std::vector<domain::Agency>* parents = &(*directory_filters)->parents;
  const std::vector<std::string>* kinds = &(*directory_filters)->kinds;
  service::QueueFilter filter;
  filter.round_id = ParseId(call.Query("round"));
  filter.status = call.request.query.count("status") ? call.Query("status") : "submitted";
  filter.ministry = call.Query("ministry");
  filter.kind = call.Query("kind");
  filter.q = call.Query("q");
  filter.overdue = call.Query("overdue") == "1";
  filter.now = clock_.NowMs();
  const std::string sort = call.Query("sort");
  // Every column but the KPI sorts (KPI numbers such as 4.1 and 10 have no order SQL knows).
  static const std::vector<std::pair<std::string, service::QueueSort>> kSorts = {
      {"updated", service::QueueSort::kUpdated},   {"name", service::QueueSort::kName},
      {"ministry", service::QueueSort::kMinistry}, {"status", service::QueueSort::kStatus},
      {"deadline", service::QueueSort::kDeadline}, {"evidence", service::QueueSort::kEvidence}};
  std::string sort_name = "updated";
  filter.sort = service::QueueSort::kUpdated;
  for (const auto& [name, order] : kSorts) {
    if (name == sort) {
      sort_name = name;
      filter.sort = order;
    }
  }
  filter.descending = call.Query("dir") == "desc";
  // Bounded before any arithmetic: page × 50 cannot overflow.
  int64_t page = PageNumber(call.Query("page"));
  filter.limit = 50;
  filter.offset = (page - 1) * filter.limit;
  const bool known_status = filter.status.empty() || filter.status == "draft" ||
                            filter.status == "approved" || filter.status == "submitted" ||
                            filter.status == "returned" || filter.status == "accepted";
  if (!known_status) filter.status = "submitted";
  service::Reporting reporting(call.db, clock_);
  auto queue = reporting.Queue(call.actor, filter);
  if (!queue) return ErrorPage(call, queue.status());
  if (queue->items.empty() && queue->total > 0 && filter.offset >= queue->total) {
    // Past the end (an old link, a typed number): the last page instead of an empty one.
    page = (queue->total + filter.limit - 1) / filter.limit;
    filter.offset = (page - 1) * filter.limit;
    queue = reporting.Queue(call.actor, filter);
    if (!queue) return ErrorPage(call, queue.status());
  }
  FrameworkCache frameworks(call.db, clock_,
                            [&](int64_t id) { return FrozenFramework(call.db, id); });
  json items = json::array();
  for (const auto& s : queue->items) {
    const domain::Framework* fw = frameworks.ForRound(s.round_id);
    const domain::Kpi* kpi = fw ? domain::FindKpi(fw->kpis, s.kpi) : nullptr;
    items.push_back(
        {{"href", "/review/submissions/" + std::to_string(s.id)},
         {"agency", call.Pick({s.agency_name_th, s.agency_name_en})},
         {"ministry", call.Pick({s.ministry_name_th, s.ministry_name_en})},
         {"kpi", s.kpi},
         {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
         {"status", call.T(std::string("status.") + service::SubmissionStatusName(s.status))},
         {"updated", FormatDateTime(s.updated_at, call.lang)},
         {"deadline", FormatDate(s.deadline, call.lang)},
         {"days", DaysToDeadline(call, s.deadline, filter.now)},
         {"evidence", s.evidence_files},
         {"overdue", s.deadline < filter.now && (s.status == SubmissionStatus::kDraft ||
                                                 s.status == SubmissionStatus::kApproved ||
                                                 s.status == SubmissionStatus::kReturned)}});
  }
  json round_options = json::array();
  for (const auto& r : *rounds) {
    round_options.push_back(
        {{"value", r.round.id},
         {"label", FiscalYearName(r.fiscal_year, call.lang) + " · " + r.agency_kind + " · " +
                       RoundName(r.round.round, call.lang)},
         {"selected", r.round.id == filter.round_id}});
  }
  json ministries = json::array();
  for (const domain::Agency& a : *parents) {  // in Thai order already
    ministries.push_back(
        {{"value", a.code}, {"label", call.Pick(a.name)}, {"selected", a.code == filter.ministry}});
  }
  std::vector<std::pair<std::string, json>> sorted_kinds;
  for (const std::string& k : *kinds) {
    std::string label = k;
    const std::string& name = call.T("kind." + k);
    if (name != "kind." + k) label = name;
    sorted_kinds.push_back(
        {ThaiSortKey(label), {{"value", k}, {"label", label}, {"selected", k == filter.kind}}});
  }
  std::sort(sorted_kinds.begin(), sorted_kinds.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json kind_options = json::array();
  for (auto& k : sorted_kinds) kind_options.push_back(std::move(k.second));
  json statuses = json::array();
  for (const char* s : {"submitted", "returned", "accepted", "approved", "draft"}) {
    statuses.push_back({{"value", s},
                        {"label", call.T(std::string("status.") + s)},
                        {"selected", filter.status == s}});
  }
  const int64_t pages = (queue->total + filter.limit - 1) / filter.limit;
  const std::string filters = "round=" + (filter.round_id ? std::to_string(filter.round_id) : "") +
                              "&status=" + UrlEncode(filter.status) +
                              "&ministry=" + UrlEncode(filter.ministry) +
                              "&kind=" + UrlEncode(filter.kind) + "&q=" + UrlEncode(filter.q) +
                              (filter.overdue ? "&overdue=1" : "");
  const std::string query = filters + "&sort=" + sort_name + (filter.descending ? "&dir=desc" : "");
  json model = {{"items", items},
                {"export_xlsx", "/api/v1/queue/export?" + query + "&format=xlsx"},
                {"export_csv", "/api/v1/queue/export?" + query + "&format=csv"},
                {"total", queue->total},
                {"rounds", round_options},
                {"ministries", ministries},
                {"kinds", kind_options},
                {"statuses", statuses},
                {"all_statuses", filter.status.empty()},
                {"overdue", filter.overdue},
                {"q", filter.q},
                {"sort_value", sort_name},
                {"dir_value", filter.descending ? "desc" : "asc"},
                {"page", page},
                {"pages", std::max<int64_t>(pages, 1)}};
  // Each sortable header links to the queue sorted by it (from the first page); again reverses.
  for (const char* column : {"name", "ministry", "status", "updated", "deadline", "evidence"}) {
    const bool active = sort_name == column;
    const std::string next_dir = active && !filter.descending ? "desc" : "asc";
    model["sort"][column] = {
        {"href", "/review?" + filters + "&sort=" + column + "&dir=" + next_dir},
        {"aria", active ? (filter.descending ? "descending" : "ascending") : "none"}};
  }
  if (page > 1) model["prev"] = "/review?" + query + "&page=" + std::to_string(page - 1);
  if (page < pages) model["next"] = "/review?" + query + "&page=" + std::to_string(page + 1);
  return RenderPage(call, "queue", model, call.T("queue.title"));
}

// The review page of submission `id`; `error` is shown above the form.
static HttpResponse ReviewPage(PageCall& call, const Clock& clock, int64_t id,
                               const std::string& error, int status) {
  service::Reporting reporting(call.db, clock);
  auto submission = reporting.Get(call.actor, id);
  if (!submission) return ErrorPage(call, submission.status());
  const service::SubmissionView& s = *submission;
  service::Cycle cycle(call.db, clock);
  auto round = cycle.Round(s.round_id);
  if (!round) return ErrorPage(call, round.status());
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return ErrorPage(call, framework.status());
  const domain::Framework& fw = framework->framework;
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, s.report.kpi);
  if (!kpi) return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัดนี้", "no such KPI"));
  auto found = FindAgency(call.db, clock, s.agency);
  const domain::Agency agency = found ? *found : domain::Agency{};
  const json reported = json::parse(s.report.values_json);
  json verified = reported;
  for (const auto& r : s.reviews) verified = json::parse(r.verified_json);
  json fields = VariableFields(call, *kpi, verified);
  for (auto& f : fields) {
    const std::string vid = f["id"];
    f["reported"] = !reported.contains(vid) ? "–"
                    : f.contains("date")    ? DateValueText(reported[vid], call.lang)
                                            : DisplayValue(reported[vid], fw.decimals.result);
  }
  json evidence = EvidenceList(call, s);
  for (auto& e : evidence) e["note_field"] = "note_" + std::to_string(e["id"].get<int64_t>());
  const Status review_open = cycle.CheckReviewOpen(s.round_id);
  json model = {
      {"id", s.id},
      {"agency", call.Pick(agency.name)},
      {"agency_code", s.agency},
      {"period",
       FiscalYearName(fw.fiscal_year, call.lang) + " · " + RoundName(round->round, call.lang)},
      {"doc", KpiDocModel(call, fw, *kpi, EffectiveCriteria(fw, s.agency, *kpi))},
      {"status", call.T(std::string("status.") + service::SubmissionStatusName(s.status))},
      {"revision", s.revision},
      {"updated", FormatDateTime(s.updated_at, call.lang)},
      {"fields", fields},
      {"explanation", s.report.explanation},
      {"problems", s.report.problems},
      {"remarks", s.report.remarks},
      {"evidence", evidence},
      {"reviews", ReviewList(call, s)},
      {"can_review", s.status == SubmissionStatus::kSubmitted &&
                         call.actor.Is(service::Role::kEvaluator) && review_open.ok()},
      {"action", "/review/submissions/" + std::to_string(s.id)},
      {"whatif", WhatIfModel(call, fw, *round, agency, kpi->id, verified)},
      {"unit", call.Pick(kpi->unit)}};
  if (kpi->cases) {
    // The case log the counts came from: its cases, verdict by verdict.
    model["case_log"] = CaseLogSectionModel(call, clock, *kpi, s.round_id, s.agency, false,
                                            "/review/submissions/" + std::to_string(s.id),
                                            fw.decimals.result);
  }
  if (!error.empty()) model["error"] = error;
  if (s.status == SubmissionStatus::kSubmitted && !review_open.ok())
    model["closed"] = call.Message(review_open);
  return RenderPage(call, "review", model, call.T("review.title") + " " + s.agency + " " + kpi->id,
                    status);
}

HttpResponse Pages::ReviewForm(PageCall& call) {
  return ReviewPage(call, clock_, ParseId(call.request.params.at("id")), "", 200);
}

HttpResponse Pages::Review(PageCall& call) {
  const int64_t id = ParseId(call.request.params.at("id"));
  service::Reporting reporting(call.db, clock_);
  auto submission = reporting.Get(call.actor, id);
  if (!submission) return ErrorPage(call, submission.status());
  service::Cycle cycle(call.db, clock_);
  auto round = cycle.Round(submission->round_id);
  if (!round) return ErrorPage(call, round.status());
  auto framework = cycle.Framework(round->framework_id);
  if (!framework) return ErrorPage(call, framework.status());
  const domain::Kpi* kpi = domain::FindKpi(framework->framework.kpis, submission->report.kpi);
  if (!kpi) return ErrorPage(call, Status::NotFound("ไม่มีตัวชี้วัดนี้", "no such KPI"));
  auto verified = ValuesFromForm(call, *kpi);
  if (!verified) return ReviewPage(call, clock_, id, call.Message(verified.status()), 400);
  service::ReviewInput review;
  review.verified_json = verified->empty() ? "" : verified->dump();
  review.comment = call.Field("comment");
  for (const auto& e : submission->evidence) {
    const std::string note = call.Field("note_" + std::to_string(e.id));
    if (!note.empty()) review.evidence_notes[e.id] = note;
  }
  const bool accept = call.Field("decision") == "accept";
  auto done =
      accept ? reporting.Accept(call.actor, id, review) : reporting.Return(call.actor, id, review);
  if (!done)
    return ReviewPage(call, clock_, id, call.Message(done.status()),
                      HttpStatusOf(done.status().code()));
  return Redirect(std::string("/review?done=") + (accept ? "accepted" : "returned"));
}

HttpResponse Pages::AppealsList(PageCall& call) {
  service::Results results(call.db, clock_);
  service::Cycle cycle(call.db, clock_);
  auto rounds = results.RoundsWithResults(call.actor, service::ResultStage::kPreliminary);
  if (!rounds) return ErrorPage(call, rounds.status());
  json open = json::array(), decided = json::array();
  FrameworkCache frameworks(call.db, clock_,
                            [&](int64_t id) { return FrozenFramework(call.db, id); });
  for (int64_t round_id : *rounds) {
    // Every result of the round: computing again never hides an appeal.
    auto appeals = results.AppealsOfRound(call.actor, round_id);
    if (!appeals) return ErrorPage(call, appeals.status());
    const domain::Framework* fw = frameworks.ForRound(round_id);
    for (const auto& a : *appeals) {
      const domain::Kpi* kpi = fw ? domain::FindKpi(fw->kpis, a.kpi) : nullptr;
      json row = {{"id", a.id},
                  {"agency", a.agency},
                  {"kpi", a.kpi},
                  {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
                  {"reason", a.reason},
                  {"status", call.T("appeal." + a.status)},
                  {"decision", a.decision_reason.empty() ? json(false) : json(a.decision_reason)},
                  {"round", round_id},
                  {"appeal", a.id},
                  {"action", "/review/appeals/" + std::to_string(a.id)}};
      if (kpi) row["fields"] = VariableFields(call, *kpi, json::object());
      (a.status == "open" ? open : decided).push_back(row);
    }
  }
  return RenderPage(call, "appeals", {{"open", open}, {"decided", decided}},
                    call.T("appeals.title"));
}

HttpResponse Pages::DecideAppeal(PageCall& call) {
  std::string corrected;
  auto round = service::Cycle(call.db, clock_).Round(ParseId(call.Field("round")));
  if (round) {
    if (auto framework = service::Cycle(call.db, clock_).Framework(round->framework_id)) {
      if (const domain::Kpi* kpi = domain::FindKpi(framework->framework.kpis, call.Field("kpi"))) {
        auto values = ValuesFromForm(call, *kpi);
        if (!values) return ErrorPage(call, values.status());
        if (!values->empty()) corrected = values->dump();
      }
    }
  }
  auto decided = service::Results(call.db, clock_)
                     .DecideAppeal(call.actor, ParseId(call.request.params.at("id")),
                                   call.Field("upheld") == "yes", call.Field("reason"), corrected);
  if (!decided) return ErrorPage(call, decided.status());
  return Redirect("/review/appeals?done=appeal_decided");
}

}  // namespace esar::web
