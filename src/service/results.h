#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/text.h"
#include "domain/engine.h"
#include "service/actor.h"
#include "service/audit_state.h"
#include "service/cycle.h"
#include "service/reporting.h"
#include "storage/database.h"

namespace esar::service {

enum class ResultStage { kPreliminary, kFinal, kPublished };
const char* ResultStageName(ResultStage stage);

// A result: one computation (or publication) of a round. Its scores are rows (result_totals,
// result_kpis) of the result named by `rows_from`: its own id when computed, the final result's
// for a publication, which shares them.
struct StoredResult {
  int64_t id = 0;
  int64_t framework_id = 0;
  int round = 12;
  ResultStage stage = ResultStage::kPreliminary;
  std::string document;  // what the call that returned it says; empty for the actions
  int64_t computed_at = 0;
  int64_t appeal_deadline = 0;  // preliminary results only
  int64_t rows_from = 0;        // the result whose rows hold the scores
};

// One agency's line of a result: its total, grade and where it sits, from result_totals.
struct AgencyTotal {
  std::string code;
  std::string name_th, name_en;  // from the directory now
  std::string kind, parent;      // at computation time
  double total = 0;              // NaN when nothing was scored
  std::string total_text;        // with the framework's decimals ("-" without a total)
  int grade = -1;                // index into the framework's grades, -1 for none
  std::string grade_th, grade_en;
  double scored_weight = 0;
};

// One agency's line of a result as an aggregate reads it (Results::EachTotal): no names, no
// text, so that a dashboard of every local government holds one line at a time.
struct TotalLine {
  std::string code;
  std::string kind, parent;     // at computation time
  int grade = -1;               // index into the framework's grades, -1 for none
  std::optional<double> total;  // none when nothing was scored
};

// The top-level KPI rows of a result that share a KPI, status and level, counted in SQL
// (Results::KpiLevels): the dashboard's levels and averages per KPI without the rows.
struct KpiLevelCount {
  std::string kpi;
  std::string status;  // scored, exempt, monitoring, missing
  int level = 0;       // as stored: 1-based, 0 below the first level
  int64_t count = 0;
  int64_t scores = 0;    // how many of them have a score
  double score_sum = 0;  // the sum of those scores
};

struct AppealInfo {
  int64_t id = 0;
  int64_t result_id = 0;
  std::string agency;
  std::string kpi;
  std::string reason;
  std::string status;  // open, upheld, rejected
  std::string decision_reason;
};

// What a round still lacks when the central office is about to close reporting, compute,
// finalize or publish: what its confirmation says ("12 agencies have not submitted 31 KPIs").
struct Readiness {
  RoundStatus status;
  int64_t agencies = 0;                // agencies of the framework's kind with KPIs to report
  int64_t kpis_due = 0;                // the KPIs they report in this round (exempt ones left out)
  int64_t agencies_missing = 0;        // agencies with at least one of them not submitted...
  int64_t kpis_missing = 0;            // ...and those KPIs: none, draft, approved or returned
  int64_t awaiting_review = 0;         // submitted, not yet accepted: their values do not count
  int64_t accepted = 0;                // accepted: their verified values count
  int64_t open_appeals = 0;            // open appeals against any result of the round
  int64_t decided_appeals = 0;         // decided appeals against the current result
  int64_t agencies_scored = 0;         // agencies in the current result...
  int64_t agencies_without_total = 0;  // ...of which without a total (nothing scored)
};

// A compiled engine of a frozen framework and round, with the lock its users hold: an Engine
// keeps scratch state while it scores, so one thread at a time scores with it.
struct SharedEngine {
  explicit SharedEngine(domain::Engine compiled) : engine(std::move(compiled)) {}
  std::mutex mutex;
  domain::Engine engine;  // guarded by mutex
};

// The engine of `stored` for `round` (6 or 12): compiled once per process for a frozen framework
// (which never changes) and shared, afresh for one still being edited. Compiling a framework
// that names thousands of agencies costs more than scoring one of them. Fails as
// domain::Engine::Compile does. A user that finds its mutex held may compile its own instead.
Result<std::shared_ptr<SharedEngine>> EngineFor(
    const std::shared_ptr<const StoredFramework>& stored, int round);

// A result's scores as Latest's document, written a batch of agencies at a time, each agency's
// part derived from its rows and inputs as Results::AgencyDocument does: the whole round is
// never in memory. Made by Results::OpenScores; one thread at a time.
class ScoresCursor {
 public:
  // Appends the next piece of the document to `out`, reading with `db` (any connection to the
  // database it was opened on: a stream borrows one per piece). Returns true once the document
  // is complete (and must not be called again); a failure leaves the document unfinished.
  Result<bool> Next(storage::Database& db, std::string& out);

 private:
  friend class Results;
  StoredResult result_;
  bool own_only_ = false;  // only one agency is shown (an agency's user before publication)...
  std::string only_;       // ...this one
  std::shared_ptr<const StoredFramework> framework_;
  std::shared_ptr<SharedEngine> engine_;  // held while this cursor scores (its mutex)
  int phase_ = 0;      // 0 the opening, 1 the Thai explanations, 2 the English ones, 3 done
  std::string after_;  // the last agency written in this phase (agencies go by code)
  bool first_ = true;  // nothing written yet in this phase's array
};

// Results computed by the engine from the verified values (and the imported baselines), the
// appeals against them, and their publication: preliminary → (appeals decided) → final →
// published. Every step is audited.
class Results {
 public:
  static constexpr int64_t kDefaultAppealWindowMs = 14LL * 24 * 3600 * 1000;

  Results(storage::Database& db, const Clock& clock)
      : db_(db), clock_(clock), cycle_(db, clock), reporting_(db, clock) {}

  // Where the steps that score a round (ComputePreliminary, Finalize) read the values each slice
  // of agencies is scored from: through `reader`, a second connection to the same database, while
  // this one stores the slice before (on PostgreSQL, two server backends then work at once);
  // nullptr, or a reader of another database (a SQLite connection of another file, or in memory):
  // through this connection, reading and storing in turn. The caller keeps `reader` open, and to
  // this object alone, until it gives another.
  void ReadValuesThrough(storage::Database* reader) { reader_ = reader; }

  // Scores every agency for a round from the accepted submissions' verified values and the
  // imported data; admins only. Opens the appeal window until now + `appeal_window_ms`.
  // Only once reporting is closed (kConflict while the round is open), and again while the
  // results are preliminary only when no appeal is open (kConflict); final and published
  // results are computed again only after Cycle::Reopen.
  Result<StoredResult> ComputePreliminary(const Actor& actor, int64_t round_id,
                                          int64_t appeal_window_ms = kDefaultAppealWindowMs);

  // Closes the appeal window of the round's preliminary results now, before its end; admins
  // only, audited with `reason` (may be empty). kConflict unless the round's results are
  // preliminary with the window open.
  Result<StoredResult> CloseAppeals(const Actor& actor, int64_t round_id,
                                    const std::string& reason);

  // The counts of Readiness for the round now; admins and evaluators.
  Result<Readiness> ReadinessOf(const Actor& actor, int64_t round_id);

  // An agency's reporter or approver appeals its preliminary score of one KPI, with a reason,
  // while the window is open; only the round's current results (kConflict for results a newer
  // computation or a reopening replaced).
  Result<AppealInfo> FileAppeal(const Actor& actor, int64_t result_id, const std::string& kpi,
                                const std::string& reason);

  // Upholds or rejects an appeal, with a reason; evaluators and admins. When upheld with
  // `corrected_values_json`, the submission's verified values become those (a new review).
  Result<AppealInfo> DecideAppeal(const Actor& actor, int64_t appeal_id, bool upheld,
                                  const std::string& reason,
                                  const std::string& corrected_values_json = "");

  // Recomputes and stores the final results of a round whose results are preliminary, once the
  // appeal window has ended (or was closed early) and no appeal is open; admins only. kConflict
  // otherwise, saying what is still missing.
  Result<StoredResult> Finalize(const Actor& actor, int64_t round_id);
  // Publishes the round's final results; admins only. kConflict unless they are final.
  Result<StoredResult> Publish(const Actor& actor, int64_t round_id);

  // The newest result of a round at `stage` or later, with `document` the whole round as
  // `esar score --format json --trace` gives it, explanations in Thai ("agencies") and English
  // ("explanation_en"), derived from the rows and inputs (see WriteScores). The public sees only
  // published ones; an agency's users see their own agency's part of the others.
  Result<StoredResult> Latest(const Actor& actor, int64_t round_id, ResultStage stage);

  // The newest result of a round at `stage` or later under the rules of Latest, without its
  // scores (`document` empty): what a producer of the whole round starts from.
  Result<StoredResult> LatestMeta(const Actor& actor, int64_t round_id, ResultStage stage);

  // A cursor over the scores of `result` (from LatestMeta, or an action, for `actor`) as Latest's
  // document: what a streamed answer produces piece by piece.
  Result<ScoresCursor> OpenScores(const Actor& actor, const StoredResult& result);

  // The document of OpenScores, piece by piece to `emit`, with this connection. Fails before
  // anything is emitted, or (a database error midway) after: then the text is cut short.
  Status WriteScores(const Actor& actor, const StoredResult& result,
                     const std::function<void(std::string_view)>& emit);
  Result<std::vector<AppealInfo>> Appeals(const Actor& actor, int64_t result_id);
  // The appeals against every result of a round, oldest first, under the same rules as Appeals:
  // none is hidden when the results are computed again.
  Result<std::vector<AppealInfo>> AppealsOfRound(const Actor& actor, int64_t round_id);

  // The rounds (ids, newest first) that have a result at `stage` or later the actor may see.
  Result<std::vector<int64_t>> RoundsWithResults(const Actor& actor, ResultStage stage);

  // The newest result of a round at `stage` or later, under the same rules as Latest, with a
  // short `document`: {"fiscal_year", "round", "agencies": [{"code", "name_th", "name_en",
  // "kind", "parent", "total", "total_text", "grade", "grade_en", "scored_weight", "kpis":
  // {"<id>": {"level", "score", "status"}}}]} — what lists and dashboards need, a few KB per
  // agency less than the whole. An agency's users see only their own agency before publication.
  Result<StoredResult> Summary(const Actor& actor, int64_t round_id, ResultStage stage);

  // Gives `each` every agency line of `result` (from LatestMeta for `actor`), in agency code
  // order, one row at a time: a whole round's totals are never held. kPermissionDenied when
  // `actor` may see only their own agency's part of it. The first failure of `each` ends it.
  Status EachTotal(const Actor& actor, const StoredResult& result,
                   const std::function<Status(const TotalLine&)>& each);

  // The top-level KPI rows of `result` (as EachTotal) counted by KPI, status and level, with
  // their scores summed, in the database: a few hundred lines for a round of any size.
  Result<std::vector<KpiLevelCount>> KpiLevels(const Actor& actor, const StoredResult& result);

  // Gives `each` the agency and score of every row of `result` (as EachTotal) scored on the
  // top-level KPI `kpi`, one row at a time.
  Status EachKpiScore(const Actor& actor, const StoredResult& result, const std::string& kpi,
                      const std::function<Status(const std::string& agency, double score)>& each);

  // One agency's part of the newest result at `stage` or later, under the same rules as Latest;
  // its `document` is {"fiscal_year", "round", "agency", "agency_en"}: the agency's scores with
  // their explanations in Thai and in English, derived again from its inputs (AgencyDocument).
  Result<StoredResult> LatestForAgency(const Actor& actor, int64_t round_id, ResultStage stage,
                                       const std::string& agency);

  // LatestForAgency's agency in `lang` only, as JSON: `agency` is its entry of the document
  // (null when the agency has no scores), not written out as text to be parsed again. Derived
  // with `framework` when it is the result's version (a page's cached copy), else with the
  // version read again. Fails as LatestForAgency does.
  struct AgencyPart {
    StoredResult result;  // its `document` left empty
    nlohmann::json agency;
  };
  Result<AgencyPart> LatestAgencyPart(const Actor& actor, int64_t round_id, ResultStage stage,
                                      const std::string& agency, Lang lang,
                                      const std::shared_ptr<const StoredFramework>& framework);

  // The agencies of `result` (from Latest*, as `actor` may see it), a page at a time in the order
  // of `order_by` ("total DESC" or "code", fixed by the caller, never from a request).
  Result<std::vector<AgencyTotal>> Totals(const Actor& actor, const StoredResult& result,
                                          int64_t limit, int64_t offset,
                                          const std::string& order_by = "code");

  // One agency's part of `result` (any stage; the caller checked who may see it) as
  // LatestForAgency's document: the frozen framework version and the values the agency was
  // scored from, scored again with explanations and written by formats::ScoresJson in Thai and
  // in English — the text of the day it was computed. For results migrated from before schema 8,
  // the explanation kept then. kNotFound when the agency is not in the result. With `only`, the
  // other language's part is left null (a page shows one). With `framework` (the result's frozen
  // version, as the caller holds it), the version is not read again: its text is long when it
  // names thousands of agencies.
  Result<nlohmann::json> AgencyDocument(
      const StoredResult& result, const std::string& agency,
      std::optional<Lang> only = std::nullopt,
      const std::shared_ptr<const StoredFramework>& framework = nullptr);

  // True when `actor` sees only their own agency's rows of `result` (an agency's user before
  // publication): what a producer of the whole round (a spreadsheet) must filter by.
  bool SeesOwnAgencyOnly(const Actor& actor, const StoredResult& result) const {
    return OwnOnly(actor, result);
  }

 private:
  // In one transaction holding the round's lock: checks `allowed` against the round's state,
  // then stores a result at `stage`: scored now into rows (ScoreAndStore), or, when
  // `share_rows` names a result, sharing its rows (a publication). Returns the stored result.
  Result<StoredResult> Advance(const Actor& actor, int64_t round_id, ResultStage stage,
                               int64_t appeal_window_ms,
                               const std::function<Status(const RoundStatus&)>& allowed,
                               bool publish);
  // Scores every agency of the round without explanations and writes result `id`'s rows: a
  // total per agency with the values it was scored from, a row per agency x KPI and sub-KPI.
  // Inside the caller's transaction. Returns the totals per agency, for the audit entry, and sets
  // `baselines` to {"from_earlier_results": n, "imported_in_place": m} when the framework takes
  // baselines from earlier results (Reference::from_result), else leaves it alone. Sets `state`
  // to the audit state of `entity` (the result) once its rows are written: `parts` are its parts
  // as ReadParts gave them, all but the rows (parts 1 and 2), which are added from memory.
  Result<nlohmann::json> ScoreAndStore(const RoundInfo& round, int64_t id,
                                       const std::string& entity, std::vector<EncodedRows> parts,
                                       nlohmann::json* baselines, EntityState* state);
  // The newest result of the round at `stage` or later that `actor` may see (see Latest).
  Result<StoredResult> Newest(const Actor& actor, int64_t round_id, ResultStage stage);
  // Newest, when `actor` may see agency `agency` in it (before publication an agency's users see
  // only their own); kNotFound otherwise.
  Result<StoredResult> NewestForAgency(const Actor& actor, int64_t round_id, ResultStage stage,
                                       const std::string& agency);
  // True when `actor` sees only their own agency in `result` (an agency's user before
  // publication).
  bool OwnOnly(const Actor& actor, const StoredResult& result) const;
  // The number of open appeals against any result of the round.
  Result<int64_t> OpenAppeals(const RoundInfo& round);
  Result<StoredResult> Load(int64_t result_id);
  // The round's name for messages ("ปีงบประมาณ พ.ศ. 2567 รอบ 12 เดือน"), and its id.
  Result<LocalizedText> RoundTitleOf(int64_t framework_id, int round);
  Result<int64_t> RoundIdOf(int64_t framework_id, int round);
  // One appeal of `result_id` as `actor` may see it.
  Result<AppealInfo> Appeal(const Actor& actor, int64_t result_id, int64_t appeal_id);

  storage::Database& db_;
  const Clock& clock_;
  Cycle cycle_;
  Reporting reporting_;
  storage::Database* reader_ = nullptr;  // see ReadValuesThrough
};

}  // namespace esar::service
