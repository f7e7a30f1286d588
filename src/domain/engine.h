#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/model.h"
#include "domain/trace.h"

namespace esar::domain {

enum class KpiStatus {
  kScored,      // scored from the agency's results
  kExempt,      // not evaluated for this agency (or not in this round); its weight is removed
  kMonitoring,  // reported for monitoring only, no weight
  kMissing,     // no (complete) result: 0 points
};

const char* KpiStatusName(KpiStatus status);  // "scored", "exempt", "monitoring", "missing"

struct KpiScore {
  std::string kpi;
  KpiStatus status = KpiStatus::kMissing;
  double result = 0;    // NaN when there is none
  double score = 0;     // 0..top level points
  double weight = 0;    // as assigned (0 for monitoring and sub-KPIs' parents' weight inside)
  double weighted = 0;  // score × weight / 100, before any rescaling for exemptions
  int level = -1;       // highest level reached, -1 below basic
  std::string group;    // the group chosen, when the criteria have groups
  std::vector<KpiScore> sub_kpis;
  Trace trace;  // filled only when asked for
};

struct ComponentScore {
  std::string component;
  double share = 0;
  double weighted = 0;  // sum of the KPIs' weighted scores in this component
};

struct AgencyScore {
  std::string agency;
  double total = 0;          // of 100: sum of weighted × 100 / (sum of non-exempt weights)
  double scored_weight = 0;  // sum of non-exempt weights
  int grade = -1;            // index into Framework::grades, -1 when no band matches
  std::vector<KpiScore> kpis;
  std::vector<ComponentScore> components;
};

// The score of KPI or sub-KPI `id` among `scores` (sub-KPIs searched too); nullptr when absent.
const KpiScore* FindKpiScore(const std::vector<KpiScore>& scores, const std::string& id);

// A framework compiled for one reporting round: every formula parsed once, every agency's
// assignments resolved. Scoring then costs only formula evaluations.
//
// Not thread-safe (evaluation uses one scratch buffer); compile one Engine per thread.
class Engine {
 public:
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;

  // Compiles `framework` for `round` (6 or 12). Fails on an unknown name in a formula, a
  // malformed formula, a derived variable that depends on itself, an assignment naming a KPI
  // that does not exist, and the like; the message names the KPI in Thai and English.
  static Result<Engine> Compile(const Framework& framework, int round);

  // Scores every agency in `agencies` that has at least one KPI assigned, in the order given,
  // from `observations` (other agencies, KPIs and years in it are ignored). With `explain`,
  // each KpiScore carries its trace.
  std::vector<AgencyScore> Score(const std::vector<Agency>& agencies,
                                 const std::vector<Observation>& observations,
                                 bool explain = false);

  // The names (reported variables and references) that scoring `kpi` for `agency` reads under
  // the criteria that apply to it — the agency's own when it has them. Empty for an unknown KPI.
  std::set<std::string> InputsNeeded(const std::string& agency, const std::string& kpi) const;

  // The KPIs that `agency` is assigned, with their weights (0 for monitoring), in framework
  // order; empty when it has none.
  std::vector<std::pair<std::string, double>> AssignedKpis(const std::string& agency) const;

  const Framework& framework() const;

  // For each KPI id (sub-KPIs included), the names its formulas, milestones and agency-specific
  // criteria read: what `esar check` compares with the declared variables.
  std::map<std::string, std::set<std::string>> NamesUsed() const;

  // The low-level path used by Score and the benchmark: the dense value matrix.
  class Matrix;
  // Lays `observations` out as one row of slots per agency (NaN = not reported).
  Matrix Layout(const std::vector<Agency>& agencies,
                const std::vector<Observation>& observations) const;
  // Scores row `row` of `matrix` as agency `agency` (the agency of that row in Layout).
  AgencyScore ScoreRow(const Matrix& matrix, size_t row, const Agency& agency, bool explain);
  // The same into `out`, reusing its memory: the allocation-free path for scoring many agencies.
  void ScoreRowInto(const Matrix& matrix, size_t row, const Agency& agency, bool explain,
                    AgencyScore& out);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Engine::Matrix {
 public:
  size_t rows() const { return rows_; }
  const double* Row(size_t row) const { return values_.data() + row * width_; }

 private:
  friend class Engine;
  size_t rows_ = 0;
  size_t width_ = 0;
  std::vector<double> values_;
  std::vector<uint32_t> profiles_;  // each row's resolved assignments
};

}  // namespace esar::domain
