#pragma once

#include <string>
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

}  // namespace esar::domain
