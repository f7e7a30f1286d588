#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "service/actor.h"
#include "service/cycle.h"
#include "service/reporting.h"
#include "storage/database.h"

namespace esar::service {

enum class ResultStage { kPreliminary, kFinal, kPublished };
const char* ResultStageName(ResultStage stage);

struct StoredResult {
  int64_t id = 0;
  int64_t framework_id = 0;
  int round = 12;
  ResultStage stage = ResultStage::kPreliminary;
  std::string document;  // `esar score --format json --trace` of every agency
  int64_t computed_at = 0;
  int64_t appeal_deadline = 0;  // preliminary results only
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

// Results computed by the engine from the verified values (and the imported baselines), the
// appeals against them, and their publication: preliminary → (appeals decided) → final →
// published. Every step is audited.
class Results {
 public:
  static constexpr int64_t kDefaultAppealWindowMs = 14LL * 24 * 3600 * 1000;

  Results(storage::Database& db, const Clock& clock)
      : db_(db), clock_(clock), cycle_(db, clock), reporting_(db, clock) {}

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

  // The newest result of a round at `stage` or later. The public sees only published ones;
  // an agency's users see their own agency's part of the others.
  Result<StoredResult> Latest(const Actor& actor, int64_t round_id, ResultStage stage);
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

  // One agency's part of the newest result at `stage` or later, under the same rules as Latest;
  // its `document` is {"fiscal_year", "round", "agency", "agency_en"}: the agency's scores with
  // their explanations in Thai and in English. Read from its own row: no large document is parsed.
  Result<StoredResult> LatestForAgency(const Actor& actor, int64_t round_id, ResultStage stage,
                                       const std::string& agency);

 private:
  Result<std::string> Score(int64_t round_id);
  // The summary stored beside a result (see Summary) of its parsed document.
  nlohmann::json Summarize(const nlohmann::json& document,
                           const std::map<std::string, nlohmann::json>& english);
  // In one transaction holding the round's lock: checks `allowed` against the round's state,
  // makes the document with `make` and stores it at `stage` (see StoreLocked).
  Result<StoredResult> Advance(const Actor& actor, int64_t round_id, ResultStage stage,
                               int64_t appeal_window_ms,
                               const std::function<Status(const RoundStatus&)>& allowed,
                               const std::function<Result<std::string>(const RoundStatus&)>& make);
  // Stores `document` as a result of the round at `stage` with its per-agency rows, summary and
  // audit entry; inside a transaction. Returns the new result's id.
  Result<int64_t> StoreLocked(const Actor& actor, const RoundInfo& round, ResultStage stage,
                              const std::string& document, int64_t appeal_deadline, int64_t now);
  // The number of open appeals against any result of the round.
  Result<int64_t> OpenAppeals(const RoundInfo& round);
  Result<StoredResult> Load(int64_t result_id);
  // One appeal of `result_id` as `actor` may see it.
  Result<AppealInfo> Appeal(const Actor& actor, int64_t result_id, int64_t appeal_id);

  storage::Database& db_;
  const Clock& clock_;
  Cycle cycle_;
  Reporting reporting_;
};

}  // namespace esar::service
