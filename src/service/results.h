#pragma once

#include <cstdint>
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
  Result<StoredResult> ComputePreliminary(const Actor& actor, int64_t round_id,
                                          int64_t appeal_window_ms = kDefaultAppealWindowMs);

  // An agency's reporter or approver appeals its preliminary score of one KPI, with a reason,
  // while the window is open.
  Result<AppealInfo> FileAppeal(const Actor& actor, int64_t result_id, const std::string& kpi,
                                const std::string& reason);

  // Upholds or rejects an appeal, with a reason; evaluators and admins. When upheld with
  // `corrected_values_json`, the submission's verified values become those (a new review).
  Result<AppealInfo> DecideAppeal(const Actor& actor, int64_t appeal_id, bool upheld,
                                  const std::string& reason,
                                  const std::string& corrected_values_json = "");

  // Recomputes and stores the final results once no appeal is open; admins only.
  Result<StoredResult> Finalize(const Actor& actor, int64_t round_id);
  // Publishes the newest final results of the round; admins only.
  Result<StoredResult> Publish(const Actor& actor, int64_t round_id);

  // The newest result of a round at `stage` or later. The public sees only published ones;
  // an agency's users see their own agency's part of the others.
  Result<StoredResult> Latest(const Actor& actor, int64_t round_id, ResultStage stage);
  Result<std::vector<AppealInfo>> Appeals(const Actor& actor, int64_t result_id);

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
  Result<StoredResult> Store(const Actor& actor, int64_t round_id, ResultStage stage,
                             const std::string& document, int64_t appeal_deadline);
  Result<StoredResult> Load(int64_t result_id);
  // One appeal of `result_id` as `actor` may see it.
  Result<AppealInfo> Appeal(const Actor& actor, int64_t result_id, int64_t appeal_id);

  storage::Database& db_;
  const Clock& clock_;
  Cycle cycle_;
  Reporting reporting_;
};

}  // namespace esar::service
