#pragma once

// KPIs computed from other agencies' results of the same fiscal year and round (issue 11 §2):
// the central office's "share of agencies whose e-Service KPI reached the standard level", the
// "provinces with high achievement", a ministry's average of its departments' results. The rule
// is data in the framework (Kpi::from_agencies); this pass computes each such value in
// dependency order, before the agencies that carry it are scored, and keeps with the value the
// agencies it counted and left out, so that the explanation can name them.

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/engine.h"
#include "domain/model.h"

namespace esar::domain {

// One agency's result of one KPI (by key) in the fiscal year and round being computed: from
// another framework's stored results, or from this framework's own scoring.
struct PeerResult {
  std::string agency;
  std::string kind;    // the agency's kind and parent when that result was computed
  std::string parent;
  std::string kpi_key;
  KpiStatus status = KpiStatus::kMissing;
  double result = std::numeric_limits<double>::quiet_NaN();
  int level = 0;  // as results number levels: 1 = the first level, 0 = below it
};

// One agency of the set as the explanation lists it.
struct PeerEntry {
  std::string agency;
  double result = std::numeric_limits<double>::quiet_NaN();
  int level = 0;          // as PeerResult::level
  bool reached = false;   // share and count only
  std::string reason;     // for an agency left out: "exempt", "missing", "monitoring", "no_result"
};

// The value of one rule and how it was reached: the agencies counted (with their result, level
// and whether they reached), those of the set left out and why, by agency code.
struct PeerComputation {
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN: no agency counted
  std::vector<PeerEntry> counted;
  std::vector<PeerEntry> left_out;
};

// Computes `rule` over `results` (other agencies' results; those of other keys are ignored).
// The set is the agencies whose result of `rule.key` matches the selector (kind, ministry and
// list read from the result) plus, when the selector is not empty, the agencies of `directory`
// it matches that have no such result (left out: "no_result"). Exempt results are left out; a
// monitoring-only result is left out when reaching is by level; a missing result counts as not
// reached in a share or count and is left out of an average, sum, minimum or maximum.
// share = reached ÷ counted × 100; NaN when no agency is counted (and for min/max/average).
PeerComputation ComputeFromAgencies(const FromAgencies& rule, const std::vector<Agency>& directory,
                                    const std::vector<PeerResult>& results);

// The computation as the Observation::source of the value it fills: a compact JSON text
// beginning with {"from_agencies":...}. DecodePeerSource reads it back; nullopt for any other
// source (a reported value, a baseline's "published"). `rule`, when given, is set to the rule
// as it was applied (key, measure, level, at_least, at_most; not the variable or the set).
std::string EncodePeerSource(const FromAgencies& rule, const PeerComputation& computation);
std::optional<PeerComputation> DecodePeerSource(const std::string& source,
                                                FromAgencies* rule = nullptr);

// The KPIs of `framework` (sub-KPIs included) with `from_agencies`, in an order where each comes
// after every such KPI whose results it reads in this framework (the KPI with its key, that
// KPI's sub-KPIs and the KPIs their references read). A cycle fails with the KPIs around it in
// words ("1 → 2 → 1"), in Thai and English.
Result<std::vector<const Kpi*>> FromAgenciesOrder(const Framework& framework);

// A framework among the frameworks of one fiscal year, with the name messages give it (its
// agency kind, or its file).
struct NamedFramework {
  std::string name;
  const Framework* framework = nullptr;
};

// Across the frameworks of one fiscal year (one per agency kind: the server reads each other
// kind's results of a key, domain::PeerResult), whether a KPI with `from_agencies` waits,
// through rules of other frameworks, for its own results. A rule reading key k depends on the
// rules among ReadIds(k) of its own framework and of every other framework of the same fiscal
// year that has a KPI with key k. Ok when there is no such cycle; InvalidInput naming the KPIs
// and their frameworks in words ("1 (department) → 3 (province) → 1 (department)"), in Thai and
// English, for the first cycle that spans two frameworks or more (a cycle within one framework
// is FromAgenciesOrder's to report).
Status CheckFromAgenciesAcross(const std::vector<NamedFramework>& frameworks);

// For every KPI of the engine's framework with `from_agencies`, in FromAgenciesOrder: computes
// its value from `others` (other frameworks' results of the same fiscal year and `round`) and
// this framework's own results of the keys it reads (scored first, from `observations` as they
// stand, and preferred over `others` for the same agency), then sets `rule.variable` of that
// KPI, for this fiscal year and `round`, for every agency of `agencies` assigned the KPI,
// replacing any value `observations` had for it. Each value added carries EncodePeerSource as
// its source (NaN when no agency was counted: the KPI is then missing). Returns how many values
// were added; 0 at once, with nothing scored, for a framework without such KPIs.
Result<size_t> FillFromAgencies(Engine& engine, int round, const std::vector<Agency>& agencies,
                                const std::vector<PeerResult>& others,
                                std::vector<Observation>& observations);

// True when any KPI of `framework` (sub-KPIs included) has `from_agencies`.
bool HasFromAgencies(const Framework& framework);

// Adds to the traces in `scores` (scored with explanations from `observations`), before each
// KPI's other steps, one TraceKind::kFromAgencies step for a KPI with `from_agencies` whose value
// was computed (its observation's source). KPIs without a trace are left alone.
void AnnotateFromAgencies(const Engine& engine, const std::vector<Observation>& observations,
                          std::vector<AgencyScore>& scores);

}  // namespace esar::domain
