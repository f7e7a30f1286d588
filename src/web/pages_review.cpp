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
#include "service/history.h"
#include "service/reporting.h"
#include "service/results.h"
#include "web/kpi_view.h"
#include "web/page_support.h"
#include "web/pages.h"
#include "web/pages_cases.h"
#include "web/pages_catalogs.h"

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
    const auto& stored = StoredForRound(round_id);
    return stored ? &stored->framework : nullptr;
  }
  // The framework of round `round_id` as stored, null when it cannot be read.
  const std::shared_ptr<const service::StoredFramework>& StoredForRound(int64_t round_id) {
    auto found = by_round_.find(round_id);
    if (found != by_round_.end()) return found->second;
    auto round = cycle_.Round(round_id);
    std::shared_ptr<const service::StoredFramework> framework;
    if (round) {
      if (auto stored = load_(round->framework_id)) framework = *stored;
    }
    return by_round_.emplace(round_id, std::move(framework)).first->second;
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

// At most this many submissions are sorted by score: a score is the engine's, not a column SQL
// can order by, so the filtered queue is scored whole first (one scoring per agency and round).
constexpr int64_t kScoreSortMax = 500;

// The queue's filter, sort and page as /review's query string gives them (unknown values fall
// back to the defaults: the submitted reports, oldest change first, page 1).
struct QueueQuery {
  service::QueueFilter filter;
  std::string sort_name = "updated";  // "score" sorts by the engine's score, the rest in SQL
  int64_t page = 1;
  // "round=..&status=..&ministry=..&kind=..&q=..[&overdue=1]": the filters alone.
  std::string Filters() const {
    return "round=" + (filter.round_id ? std::to_string(filter.round_id) : "") +
           "&status=" + UrlEncode(filter.status) + "&ministry=" + UrlEncode(filter.ministry) +
           "&kind=" + UrlEncode(filter.kind) + "&q=" + UrlEncode(filter.q) +
           (filter.overdue ? "&overdue=1" : "");
  }
  // The filters with the sort and its direction.
  std::string Sorted() const {
    return Filters() + "&sort=" + sort_name + (filter.descending ? "&dir=desc" : "");
  }
};

static QueueQuery ReadQueueQuery(const PageCall& call, int64_t now) {
  QueueQuery q;
  service::QueueFilter& filter = q.filter;
  filter.round_id = ParseId(call.Query("round"));
  filter.status = call.request.query.count("status") ? call.Query("status") : "submitted";
  filter.ministry = call.Query("ministry");
  filter.kind = call.Query("kind");
  filter.q = call.Query("q");
  filter.overdue = call.Query("overdue") == "1";
  filter.now = now;
  const std::string sort = call.Query("sort");
  static const std::vector<std::pair<std::string, service::QueueSort>> kSorts = {
      {"updated", service::QueueSort::kUpdated},   {"name", service::QueueSort::kName},
      {"ministry", service::QueueSort::kMinistry}, {"status", service::QueueSort::kStatus},
      {"deadline", service::QueueSort::kDeadline}, {"evidence", service::QueueSort::kEvidence},
      {"kpi", service::QueueSort::kKpi},           {"score", service::QueueSort::kKpi}};
  filter.sort = service::QueueSort::kUpdated;
  for (const auto& [name, order] : kSorts) {
    if (name == sort) {
      q.sort_name = name;
      filter.sort = order;  // by score: read in KPI order, then sorted by score (stable)
    }
  }
  filter.descending = call.Query("dir") == "desc";
  const bool known_status = filter.status.empty() || filter.status == "draft" ||
                            filter.status == "approved" || filter.status == "submitted" ||
                            filter.status == "returned" || filter.status == "accepted";
  if (!known_status) filter.status = "submitted";
  // Bounded before any arithmetic: page × 50 cannot overflow.
  q.page = PageNumber(call.Query("page"));
  filter.limit = 50;
  filter.offset = (q.page - 1) * filter.limit;
  return q;
}

namespace {

// The score each listed submission's KPI would earn from the values the agency's pages score
// with (Reporting::CurrentValuesOf: as reported, the verified values once accepted; baselines
// from earlier results filled in): the what-if the agency's form shows. One engine per round,
// one scoring per agency and round, however many of its KPIs are listed; the agencies of a
// page read together (Prefetch), with the values of the listed KPIs and of those they read only
// (domain::KpisReadToScore): a page of five KPIs of 25 read a fifth of the rows.
class QueueScores {
 public:
  struct Score {
    std::string text;  // "62.50", or why there is none ("ยังไม่ครบ", "ยกเว้น")
    std::optional<double> value;  // when scored
  };
  QueueScores(PageCall& call, const Clock& clock, FrameworkCache& frameworks)
      : call_(call), clock_(clock), frameworks_(frameworks) {}

  // Scores the agencies of `items` not scored yet for their listed KPIs, a round at a time,
  // their values read in a few queries for them all: on PostgreSQL a query an agency (five
  // each, fifty agencies a page) cost the queue more than anything else on it.
  void Prefetch(const std::vector<service::SubmissionSummary>& items) {
    struct Wanted {
      std::set<std::string> agencies;
      std::set<std::string> kpis;
    };
    std::map<int64_t, Wanted> wanted;  // by round
    for (const service::SubmissionSummary& s : items) {
      if (Covered(s)) continue;
      wanted[s.round_id].agencies.insert(s.agency);
      wanted[s.round_id].kpis.insert(s.kpi);
    }
    for (const auto& [round_id, asked] : wanted) {
      ScoreRound(round_id, std::vector<std::string>(asked.agencies.begin(), asked.agencies.end()),
                 asked.kpis);
    }
  }

  Score Of(const service::SubmissionSummary& s) {
    const domain::Framework* fw = frameworks_.ForRound(s.round_id);
    if (!fw) return {"–", std::nullopt};
    if (!Covered(s)) ScoreRound(s.round_id, {s.agency}, {s.kpi});
    const auto found = scores_.find({s.round_id, s.agency});
    if (!found->second.score.ok()) {
      return {call_.Message(found->second.score.status()), std::nullopt};
    }
    const auto& agency = *found->second.score;
    const domain::KpiScore* score = agency ? domain::FindKpiScore(agency->kpis, s.kpi) : nullptr;
    if (!score) return {call_.T("queue.score_not_assigned"), std::nullopt};
    switch (score->status) {
      case domain::KpiStatus::kScored:
        return {Number(score->score, fw->decimals.score), score->score};
      case domain::KpiStatus::kExempt:
        return {call_.T("queue.score_exempt"), std::nullopt};
      case domain::KpiStatus::kMonitoring:
        return {call_.T("queue.score_monitoring"), std::nullopt};
      case domain::KpiStatus::kMissing:
        break;
    }
    return {call_.T("queue.score_missing"), std::nullopt};
  }

 private:
  // An agency's scores in a round, from the values of `kpis` only: true for those KPIs.
  struct Scored {
    Result<std::optional<domain::AgencyScore>> score;
    std::set<std::string> kpis;
  };

  // True when s's agency is scored with the values its KPI's score reads.
  bool Covered(const service::SubmissionSummary& s) const {
    const auto found = scores_.find({s.round_id, s.agency});
    return found != scores_.end() && found->second.kpis.count(s.kpi);
  }

  // Scores `codes` in round `round_id` into scores_ for the KPIs `asked` (with the values those
  // read): each its score, none (no KPI assigned, or no such agency), or the failure to read or
  // score them.
  void ScoreRound(int64_t round_id, const std::vector<std::string>& codes,
                  const std::set<std::string>& asked) {
    const domain::Framework* fw = frameworks_.ForRound(round_id);
    const std::set<std::string> read = fw ? domain::KpisReadToScore(fw->kpis, asked) : asked;
    auto scored = ScoreAgencies(round_id, codes, read);
    // An unknown KPI reads nothing, but is answered ("not assigned") all the same.
    std::set<std::string> covered = read;
    covered.insert(asked.begin(), asked.end());
    for (const std::string& code : codes) {
      Result<std::optional<domain::AgencyScore>> entry = std::optional<domain::AgencyScore>();
      if (!scored) {
        entry = scored.status();
      } else if (auto found = scored->find(code); found != scored->end()) {
        entry = std::optional<domain::AgencyScore>(std::move(found->second));
      }
      scores_.insert_or_assign({round_id, code}, Scored{std::move(entry), covered});
    }
  }

  // The scores of `codes` in round `round_id` from the values of the KPIs `kpis` only.
  Result<std::map<std::string, domain::AgencyScore>> ScoreAgencies(
      int64_t round_id, const std::vector<std::string>& codes, const std::set<std::string>& kpis) {
    const domain::Framework* fw = frameworks_.ForRound(round_id);
    if (!fw) return std::map<std::string, domain::AgencyScore>();
    auto engine = engines_.find(round_id);
    if (engine == engines_.end()) {
      auto round = service::Cycle(call_.db, clock_).Round(round_id);
      if (!round) return round.status();
      round_numbers_[round_id] = round->round;
      // The process's engine of a frozen framework (service::EngineFor): compiling one that
      // names 8,000 agencies on every queue page cost more than the page's scores.
      engine = engines_
                   .emplace(round_id,
                            service::EngineFor(frameworks_.StoredForRound(round_id), round->round))
                   .first;
    }
    if (!engine->second.ok()) return engine->second.status();
    auto agencies = service::Directory(call_.db, clock_).FindAgencies(codes);
    if (!agencies) return agencies.status();
    auto values = service::Reporting(call_.db, clock_).CurrentValuesOf(round_id, codes, &kpis);
    if (!values) return values.status();
    std::vector<domain::Observation> observations;
    size_t count = 0;
    for (const auto& [code, current] : *values) count += current.observations.size();
    observations.reserve(count);  // grown by doubling, it moved each observation twice over
    for (auto& [code, current] : *values) {
      observations.insert(observations.end(), std::make_move_iterator(current.observations.begin()),
                          std::make_move_iterator(current.observations.end()));
    }
    auto filled = service::History(call_.db, clock_).FillBaselines(*fw, *agencies, observations);
    if (!filled) return filled.status();
    std::vector<domain::AgencyScore> scores;
    service::SharedEngine& shared = **engine->second;
    std::unique_lock<std::mutex> lock(shared.mutex, std::try_to_lock);
    if (lock.owns_lock()) {
      scores = shared.engine.Score(*agencies, observations);
    } else {
      // Another request scores with it now: this one compiles its own rather than wait.
      auto own = domain::Engine::Compile(*fw, round_numbers_[round_id]);
      if (!own) return own.status();
      scores = own->Score(*agencies, observations);
    }
    std::map<std::string, domain::AgencyScore> out;
    for (domain::AgencyScore& score : scores) out.emplace(score.agency, std::move(score));
    return out;
  }

  PageCall& call_;
  const Clock& clock_;
  FrameworkCache& frameworks_;
  std::map<int64_t, Result<std::shared_ptr<service::SharedEngine>>> engines_;
  std::map<int64_t, int> round_numbers_;  // 6 or 12, of the rounds in engines_
  std::map<std::pair<int64_t, std::string>, Scored> scores_;
};

// One page of the queue as `q` asks, each item with its score. Sorted in SQL, or, by score,
// the whole filtered queue (at most kScoreSortMax: `too_many` is set beyond, and the page comes
// in KPI order) scored and sorted here, unscored ones last, ties in KPI order.
struct ScoredQueue {
  std::vector<service::SubmissionSummary> items;
  std::vector<QueueScores::Score> scores;
  int64_t total = 0;
  bool too_many = false;
};

Result<ScoredQueue> ReadScoredQueue(PageCall& call, const Clock& clock, QueueScores& scorer,
                                    service::QueueFilter filter, bool by_score) {
  service::Reporting reporting(call.db, clock);
  ScoredQueue out;
  if (by_score) {
    service::QueueFilter all = filter;
    all.offset = 0;
    all.limit = kScoreSortMax;
    all.descending = false;
    auto whole = reporting.Queue(call.actor, all);
    if (!whole) return whole.status();
    if (whole->total <= kScoreSortMax) {
      std::vector<std::pair<service::SubmissionSummary, QueueScores::Score>> rows;
      scorer.Prefetch(whole->items);
      for (auto& s : whole->items) {
        QueueScores::Score score = scorer.Of(s);
        rows.emplace_back(std::move(s), std::move(score));
      }
      const bool desc = filter.descending;
      std::stable_sort(rows.begin(), rows.end(), [desc](const auto& a, const auto& b) {
        const auto& x = a.second.value;
        const auto& y = b.second.value;
        if (x.has_value() != y.has_value()) return x.has_value();  // unscored last, both ways
        if (!x) return false;
        return desc ? *x > *y : *x < *y;
      });
      out.total = whole->total;
      const auto first = std::min<int64_t>(filter.offset, out.total);
      const auto last = std::min<int64_t>(filter.offset + filter.limit, out.total);
      for (int64_t i = first; i < last; ++i) {
        out.items.push_back(std::move(rows[static_cast<size_t>(i)].first));
        out.scores.push_back(std::move(rows[static_cast<size_t>(i)].second));
      }
      return out;
    }
    out.too_many = true;  // read the page in KPI order instead
  }
  auto page = reporting.Queue(call.actor, filter);
  if (!page) return page.status();
  out.total = page->total;
  out.items = std::move(page->items);
  scorer.Prefetch(out.items);
  for (const auto& s : out.items) out.scores.push_back(scorer.Of(s));
  return out;
}

}  // namespace

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
  QueueQuery q = ReadQueueQuery(call, clock_.NowMs());
  service::QueueFilter& filter = q.filter;
  const std::string& sort_name = q.sort_name;
  int64_t page = q.page;
  const bool by_score = sort_name == "score";
  FrameworkCache frameworks(call.db, clock_,
                            [&](int64_t id) { return FrozenFramework(call.db, id); });
  QueueScores scorer(call, clock_, frameworks);
  auto queue = ReadScoredQueue(call, clock_, scorer, filter, by_score);
  if (!queue) return ErrorPage(call, queue.status());
  if (queue->items.empty() && queue->total > 0 && filter.offset >= queue->total) {
    // Past the end (an old link, a typed number): the last page instead of an empty one.
    page = (queue->total + filter.limit - 1) / filter.limit;
    filter.offset = (page - 1) * filter.limit;
    queue = ReadScoredQueue(call, clock_, scorer, filter, by_score);
    if (!queue) return ErrorPage(call, queue.status());
  }
  json items = json::array();
  for (size_t i = 0; i < queue->items.size(); ++i) {
    const service::SubmissionSummary& s = queue->items[i];
    const domain::Framework* fw = frameworks.ForRound(s.round_id);
    const domain::Kpi* kpi = fw ? domain::FindKpi(fw->kpis, s.kpi) : nullptr;
    const int64_t at = filter.offset + static_cast<int64_t>(i);
    items.push_back(
        {{"href", "/review/submissions/" + std::to_string(s.id) + "?" + q.Sorted() +
                      "&at=" + std::to_string(at)},
         {"id", s.id},
         {"selectable", s.status == SubmissionStatus::kSubmitted},
         {"agency", call.Pick({s.agency_name_th, s.agency_name_en})},
         {"ministry", call.Pick({s.ministry_name_th, s.ministry_name_en})},
         {"kpi", s.kpi},
         {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
         {"score", queue->scores[i].text},
         {"scored", queue->scores[i].value.has_value()},
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
  const std::string filters = q.Filters();
  const std::string query = q.Sorted();
  // The spreadsheet lists what SQL can order; by score it comes in KPI order.
  const std::string export_query =
      by_score ? filters + "&sort=kpi" + (filter.descending ? "&dir=desc" : "") : query;
  json model = {
      {"items", items},
      {"export_xlsx", "/api/v1/queue/export?" + export_query + "&format=xlsx"},
      {"export_csv", "/api/v1/queue/export?" + export_query + "&format=csv"},
      {"score_sort_limited", queue->too_many},
      {"back", "/review?" + query + "&page=" + std::to_string(page)},
      {"score_sort_max", kScoreSortMax},
      {"has_selectable", filter.status == "submitted" && call.actor.Is(service::Role::kEvaluator)},
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
  for (const char* column :
       {"name", "ministry", "kpi", "score", "status", "updated", "deadline", "evidence"}) {
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

// The place ?at=N names in a queue: a number 0..10^9, anything else 0.
static int64_t QueuePlace(const PageCall& call) {
  const std::string text = call.Query("at");
  int64_t at = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), at);
  if (ec != std::errc() || ptr != text.data() + text.size() || at < 0 || at > 1000000000) return 0;
  return at;
}

// Where submission `id`'s review page came from in the queue (?...&at=N: the queue's filters and
// sort, and its place N in it): {"back": that queue's page, "next": the review page of the item
// after it in that queue, or of the one now at its place when it left the list (accepted,
// returned)}; {} when the page was not opened from the queue, no "next" at the queue's end.
static Result<json> QueueNavigation(PageCall& call, const Clock& clock,
                                    const FrameworkCache::Loader& load, int64_t id) {
  json out = json::object();
  if (!call.request.query.count("at")) return out;
  QueueQuery q = ReadQueueQuery(call, clock.NowMs());
  const int64_t at = QueuePlace(call);
  q.filter.offset = at;
  q.filter.limit = 2;
  FrameworkCache frameworks(call.db, clock, load);
  QueueScores scorer(call, clock, frameworks);
  auto queue = ReadScoredQueue(call, clock, scorer, q.filter, q.sort_name == "score");
  if (!queue) return queue.status();
  out["back"] = "/review?" + q.Sorted() + "&page=" + std::to_string(at / 50 + 1);
  const auto& items = queue->items;
  int64_t next_at = -1;
  if (!items.empty() && items[0].id == id) {
    if (items.size() > 1) next_at = at + 1;
  } else if (!items.empty()) {
    next_at = at;  // this one left the list: the next took its place
  }
  if (next_at >= 0) {
    const auto& next = items[static_cast<size_t>(next_at - at)];
    out["next"] = "/review/submissions/" + std::to_string(next.id) + "?" + q.Sorted() +
                  "&at=" + std::to_string(next_at);
    out["next_label"] = call.Pick({next.agency_name_th, next.agency_name_en}) + " — " + next.kpi;
  }
  out["query"] = q.Sorted() + "&at=" + std::to_string(at);
  return out;
}

// The review page of submission `id`; `error` is shown above the form.
static HttpResponse ReviewPage(PageCall& call, const Clock& clock,
                               const FrameworkCache::Loader& load, int64_t id,
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
                    : f.contains("count")   ? DisplayValue(reported[vid], 0)  // "180", not "180.00"
                                            : DisplayValue(reported[vid], fw.decimals.result);
  }
  json evidence = EvidenceList(call, s);
  bool first_view = true;
  for (auto& e : evidence) {
    e["note_field"] = "note_" + std::to_string(e["id"].get<int64_t>());
    // PDFs and images open in the page (a sandboxed frame; the file served with a policy that
    // runs no script), the first one unfolded; other types are downloaded.
    const std::string type = e["type"];
    if (!e["replaced"].get<bool>() &&
        (type == "application/pdf" || type == "image/png" || type == "image/jpeg")) {
      e["view"] = e["href"].get<std::string>() + "?inline=1";
      // Sandboxed by the file's own policy (see kEvidenceCsp); an image's frame says so too.
      e["image"] = type != "application/pdf";
      e["first"] = first_view;
      first_view = false;
    }
  }
  const Status review_open = cycle.CheckReviewOpen(s.round_id);
  // The evaluator reads the criteria as the agency did: its group and targets filled in, from
  // the values the what-if line reads.
  std::map<std::string, double> known;
  json whatif =
      WhatIfModel(call, fw, *round, agency, kpi->id, verified, "whatif.basis_form", &known);
  json model = {
      {"id", s.id},
      {"agency", call.Pick(agency.name)},
      {"agency_code", s.agency},
      {"period",
       FiscalYearName(fw.fiscal_year, call.lang) + " · " + RoundName(round->round, call.lang)},
      {"doc", KpiDocModel(call, fw, *kpi, EffectiveCriteria(fw, s.agency, *kpi), &known)},
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
      {"whatif", std::move(whatif)},
      {"unit", call.Pick(kpi->unit)}};
  if (kpi->cases) {
    // The case log the counts came from: its cases, verdict by verdict.
    model["case_log"] =
        CaseLogSectionModel(call, clock, *kpi, s.round_id, s.agency, false,
                            "/review/submissions/" + std::to_string(s.id), fw.decimals.result);
  }
  if (kpi->catalog) {
    // The data catalog the counts came from: each dataset with what is missing or wrong.
    model["catalog"] = CatalogSectionModel(call, clock, *kpi, s.round_id, s.agency, false,
                                           "/review/submissions/" + std::to_string(s.id));
  }
  auto navigation = QueueNavigation(call, clock, load, s.id);
  if (!navigation) return ErrorPage(call, navigation.status());
  model["queue"] = *navigation;
  if (navigation->contains("query"))
    model["action"] = "/review/submissions/" + std::to_string(s.id) + "?" +
                      (*navigation)["query"].get<std::string>();
  if (!error.empty()) model["error"] = error;
  if (s.status == SubmissionStatus::kSubmitted && !review_open.ok())
    model["closed"] = call.Message(review_open);
  return RenderPage(call, "review", model, call.T("review.title") + " " + s.agency + " " + kpi->id,
                    status);
}

HttpResponse Pages::ReviewForm(PageCall& call) {
  const FrameworkCache::Loader loader = [&](int64_t id) { return FrozenFramework(call.db, id); };
  return ReviewPage(call, clock_, loader, ParseId(call.request.params.at("id")), "", 200);
}

HttpResponse Pages::Review(PageCall& call) {
  const FrameworkCache::Loader loader = [&](int64_t id) { return FrozenFramework(call.db, id); };
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
  if (!verified) return ReviewPage(call, clock_, loader, id, call.Message(verified.status()), 400);
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
    return ReviewPage(call, clock_, loader, id, call.Message(done.status()),
                      HttpStatusOf(done.status().code()));
  const std::string flash = std::string("done=") + (accept ? "accepted" : "returned");
  // Opened from the queue: on to its next item (this one has left a queue of submitted reports).
  auto navigation = QueueNavigation(call, clock_, loader, id);
  if (navigation && navigation->contains("next"))
    return Redirect((*navigation)["next"].get<std::string>() + "&" + flash);
  if (navigation && navigation->contains("back"))
    return Redirect((*navigation)["back"].get<std::string>() + "&" + flash);
  return Redirect("/review?" + flash);
}

// The reported values of `s` in words for a list: "ผลงาน 850 เรื่อง; เรื่องที่รับ 1,000 เรื่อง".
static std::string ValuesText(const PageCall& call, const domain::Framework& fw,
                              const domain::Kpi& kpi, const json& values) {
  std::string out;
  for (const auto& f : VariableFields(call, kpi, values)) {
    const std::string vid = f["id"];
    if (!values.contains(vid)) continue;
    // Counts as whole numbers ("180 เรื่อง"), other numbers with the framework's decimals.
    const std::string value =
        f.contains("date")
            ? DateValueText(values[vid], call.lang)
            : DisplayValue(values[vid], f.contains("count") ? 0 : fw.decimals.result);
    const std::string unit =
        f.contains("unit") && f["unit"].is_string() ? f["unit"].get<std::string>() : "";
    // "ร้อยละ 90.00" in Thai order.
    out +=
        (out.empty() ? "" : "; ") + f["name"].get<std::string>() + " " + ValueWithUnit(value, unit);
  }
  return out.empty() ? "–" : out;
}

HttpResponse Pages::AcceptMany(PageCall& call) {
  // Back to the queue the selection came from; anything else is not followed.
  std::string back = call.Field("back");
  if (back != "/review" && back.rfind("/review?", 0) != 0) back = "/review";
  std::vector<int64_t> ids;
  for (const auto& [name, value] : call.form) {
    if (name.rfind("s_", 0) != 0) continue;
    const int64_t id = ParseId(name.substr(2));
    if (id <= 0 || std::to_string(id) != name.substr(2))
      return ErrorPage(call, Status::InvalidInput("รายการที่เลือกไม่ถูกต้อง: " + name,
                                                  "not a report of the queue: " + name));
    ids.push_back(id);
  }
  if (ids.empty())
    return ErrorPage(call, Status::InvalidInput("โปรดเลือกรายงานอย่างน้อยหนึ่งรายการ",
                                                "Select at least one report."));
  if (static_cast<int64_t>(ids.size()) > kScoreSortMax)
    return ErrorPage(call, Status::InvalidInput(
                               "เลือกได้ครั้งละไม่เกิน " + std::to_string(kScoreSortMax) + " รายการ",
                               "At most " + std::to_string(kScoreSortMax) + " reports at once."));
  std::sort(ids.begin(), ids.end());
  service::Reporting reporting(call.db, clock_);
  auto views = reporting.GetMany(call.actor, ids);
  if (!views) return ErrorPage(call, views.status());
  std::vector<const service::SubmissionView*> waiting, left_out;
  for (const auto& v : *views)
    (v.status == SubmissionStatus::kSubmitted ? waiting : left_out).push_back(&v);
  FrameworkCache frameworks(call.db, clock_,
                            [&](int64_t id) { return FrozenFramework(call.db, id); });
  QueueScores scorer(call, clock_, frameworks);
  std::vector<service::SubmissionSummary> chosen;
  for (const auto& v : *views) {
    service::SubmissionSummary summary;
    summary.round_id = v.round_id;
    summary.agency = v.agency;
    chosen.push_back(std::move(summary));
  }
  scorer.Prefetch(chosen);
  auto describe = [&](const service::SubmissionView& v) {
    const domain::Framework* fw = frameworks.ForRound(v.round_id);
    const domain::Kpi* kpi = fw ? domain::FindKpi(fw->kpis, v.report.kpi) : nullptr;
    auto agency = FindAgency(call.db, clock_, v.agency);
    service::SubmissionSummary summary;
    summary.round_id = v.round_id;
    summary.agency = v.agency;
    summary.kpi = v.report.kpi;
    return json{
        {"id", v.id},
        {"agency", agency ? call.Pick(agency->name) : v.agency},
        {"kpi", v.report.kpi},
        {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
        {"values", kpi ? ValuesText(call, *fw, *kpi, json::parse(v.report.values_json))
                       : v.report.values_json},
        {"score", scorer.Of(summary).text},
        {"evidence", v.evidence.size()},
        {"status", call.T(std::string("status.") + service::SubmissionStatusName(v.status))}};
  };
  auto render = [&](const std::string& error, int status) {
    json items = json::array(), others = json::array();
    for (const auto* v : waiting) items.push_back(describe(*v));
    for (const auto* v : left_out) others.push_back(describe(*v));
    json model = {{"items", items}, {"left_out", others}, {"count", items.size()}, {"back", back}};
    if (!error.empty()) model["error"] = error;
    return RenderPage(call, "review_bulk", model, call.T("bulk.title"), status);
  };
  if (call.Field("confirm") != "yes") return render("", waiting.empty() ? 409 : 200);
  // Confirmed: every report must still await review (a second click, another evaluator first):
  // otherwise nothing is accepted and the page says which have moved on.
  if (!left_out.empty()) {
    const Status moved =
        Status::Conflict("มีรายงานที่ไม่อยู่ในสถานะรอตรวจแล้ว จึงยังไม่ได้ให้ผ่านการตรวจรายการใด",
                         "Some of these reports no longer await review: none was accepted.");
    return render(call.Message(moved), 409);
  }
  for (size_t i = 0; i < waiting.size(); ++i) {
    auto done = reporting.Accept(call.actor, waiting[i]->id, {});
    if (!done) {
      // Accepted up to here (each is its own decision, told to its agency); the rest listed again.
      waiting.erase(waiting.begin(), waiting.begin() + static_cast<std::ptrdiff_t>(i));
      return render(call.Message(done.status()), HttpStatusOf(done.status().code()));
    }
  }
  return Redirect(back + (back.find('?') == std::string::npos ? "?" : "&") + "done=accepted_many");
}

HttpResponse Pages::AppealsList(PageCall& call) {
  service::Results results(call.db, clock_);
  service::Cycle cycle(call.db, clock_);
  auto rounds = results.RoundsWithResults(call.actor, service::ResultStage::kPreliminary);
  if (!rounds) return ErrorPage(call, rounds.status());
  json open = json::array(), decided = json::array();
  service::Reporting reporting(call.db, clock_);
  FrameworkCache frameworks(call.db, clock_,
                            [&](int64_t id) { return FrozenFramework(call.db, id); });
  for (int64_t round_id : *rounds) {
    // Every result of the round: computing again never hides an appeal.
    auto appeals = results.AppealsOfRound(call.actor, round_id);
    if (!appeals) return ErrorPage(call, appeals.status());
    const domain::Framework* fw = frameworks.ForRound(round_id);
    for (const auto& a : *appeals) {
      const domain::Kpi* kpi = fw ? domain::FindKpi(fw->kpis, a.kpi) : nullptr;
      auto agency = FindAgency(call.db, clock_, a.agency);
      json row = {{"id", a.id},
                  {"agency", agency ? call.Pick(agency->name) : a.agency},
                  {"agency_code", a.agency},
                  {"kpi", a.kpi},
                  {"kpi_name", kpi ? call.Pick(kpi->name) : ""},
                  {"reason", a.reason},
                  {"status", call.T("appeal." + a.status)},
                  {"decision", a.decision_reason.empty() ? json(false) : json(a.decision_reason)},
                  {"round", round_id},
                  {"appeal", a.id},
                  {"action", "/review/appeals/" + std::to_string(a.id)}};
      if (kpi) {
        row["fields"] = VariableFields(call, *kpi, json::object());
        // What is at stake: the values the result was scored from (as reported, and as verified
        // when the evaluator corrected them), and the evidence sent with them.
        auto current = reporting.CurrentReport(round_id, a.agency, a.kpi);
        if (!current) return ErrorPage(call, current.status());
        if (*current) {
          auto submission = reporting.Get(call.actor, (*current)->submission_id);
          if (!submission) return ErrorPage(call, submission.status());
          const json reported = json::parse(submission->report.values_json);
          json verified = reported;
          for (const auto& r : submission->reviews) {
            if (!r.verified_json.empty()) verified = json::parse(r.verified_json);
          }
          row["reported"] = ValuesText(call, *fw, *kpi, reported);
          if (verified != reported) row["verified"] = ValuesText(call, *fw, *kpi, verified);
          row["evidence"] = EvidenceList(call, *submission);
        }
      }
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
