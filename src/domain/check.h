#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "domain/from_agencies.h"
#include "domain/model.h"

namespace esar::domain {

enum class Severity { kError, kWarning };

// One problem `esar check` found: where it is and what it is, in Thai and English.
struct Finding {
  Severity severity = Severity::kError;
  std::string code;  // stable identifier, e.g. "weights-sum", "targets-disordered"
  Location where;
  std::string message_th;
  std::string message_en;
};

struct CheckInput {
  const Framework* framework = nullptr;                    // required
  std::string framework_file;                              // named in the findings' locations
  const std::vector<Agency>* agencies = nullptr;           // optional
  const std::vector<Observation>* observations = nullptr;  // optional
  int round = 12;
  // The other frameworks of the same fiscal year (other agency kinds), when known: KPIs computed
  // from other agencies' results must not wait for each other in a cycle across them
  // (CheckFromAgenciesAcross). `framework_name` names `framework` in that finding.
  std::vector<NamedFramework> other_frameworks;
  std::string framework_name;
};

// Every problem found in the framework and, when given, the agencies and the data: errors
// (the framework cannot be scored as meant) and warnings (it can, but a person should look).
// Findings come in a stable order: framework, assignments, agencies, data.
std::vector<Finding> Check(const CheckInput& input);

// True when any finding is an error.
bool HasErrors(const std::vector<Finding>& findings);

// One fault in an agency's weights, with what it concerns: `kpi` for a KPI without a weight
// ("weight-missing"), `component` for a component whose weights do not add up to its share
// ("component-weights"), neither for a total that is not 100 ("weights-sum").
struct WeightProblem {
  std::string kpi;
  std::string component;
  Finding finding;  // its `where` is empty: the caller knows where the weights came from
};

// An agency's weights added up as `esar check` adds them (monitoring-only KPIs left out), by
// component (every component of the framework present, 0 when nothing is assigned in it).
struct AgencyWeights {
  double total = 0;
  std::map<std::string, double> by_component;
  std::vector<WeightProblem> problems;
};

// `esar check`'s rule for one agency's weights: every assigned KPI but a monitoring-only one
// has a weight above 0, the weights add up to 100, and each component's to its share.
// `assigned` is what Engine::AssignedKpis gives (or a form's proposal of it): KPI ids with their
// weights; an id that is not a KPI of `fw` is skipped. `agency` names the agency in the
// messages ("*": every agency). Pure. Used by Check and by the assignment form, so both apply
// one rule.
AgencyWeights CheckAgencyWeights(const Framework& fw, const std::string& agency,
                                 const std::vector<std::pair<std::string, double>>& assigned);

}  // namespace esar::domain
