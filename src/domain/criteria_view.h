#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/text.h"
#include "domain/model.h"

namespace esar::domain {

// What one agency is held to under a KPI's criteria before it reports anything: the group its
// baselines choose and each level's target as a number. The agency's KPI page and the
// framework editor's preview show this instead of formulas and ranges ("คะแนนปี 2566 ของหน่วยงาน
// 420.50 → กลุ่ม 3: 400 / 420.50 / 428.91").
struct AgencyCriteria {
  // One choice of a group on the way down (groups may hold groups).
  struct Choice {
    std::string by;                                           // the formula that chose
    double value = std::numeric_limits<double>::quiet_NaN();  // its value; NaN: not known
    const Group* group = nullptr;  // the group whose range holds `value`; nullptr: none
  };
  std::vector<Choice> choices;  // outermost first; empty when the criteria have no groups
  // The criteria the agency is held to: the innermost chosen group's, or the criteria given
  // when they have no groups; nullptr when a group could not be chosen.
  const Criteria* criteria = nullptr;
  // For levels criteria, one per target of `criteria`: its value for this agency, NaN when the
  // level has no target or the formula reads a value not known yet.
  std::vector<double> targets;
};

// Resolves `criteria` for an agency whose known values are `known` (formula name → value:
// baselines, references, reported numbers). A formula that reads a name missing from `known`
// gives NaN. Pure: no engine, no storage.
AgencyCriteria ResolveForAgency(const Criteria& criteria,
                                const std::map<std::string, double>& known);

// The values of `kpi`'s references for `agency` among `observations` (as the engine reads them:
// the reference's KPI, variable, fiscal year (0 = `fiscal_year`) and round), by formula name.
// Lists and references with no observation are left out.
std::map<std::string, double> KnownReferences(const Kpi& kpi, const std::string& agency,
                                              int fiscal_year,
                                              const std::vector<Observation>& observations);

// A formula name as the agencies read it (issue 12 §4: never internal variable names), with the
// unit of its values.
struct NameLabel {
  LocalizedText label;
  LocalizedText unit;
};

// The label of formula name `name` in `kpi` of `framework`: a variable's name; a reference's
// variable by its name, with the year when it reads another fiscal year ("… ปี 2566"); an earlier
// year's published score "คะแนนตัวชี้วัด ปี 2566" (unit คะแนน). nullopt when `name` is none of
// these (a formula, a reference to a KPI or variable the framework does not have, or a variable
// without a name).
std::optional<NameLabel> LabelOfName(const Framework& framework, const Kpi& kpi,
                                     const std::string& name);

}  // namespace esar::domain
