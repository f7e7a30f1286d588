#pragma once

#include <string>
#include <vector>

#include "common/text.h"

namespace esar::domain {

// One step of the reasoning behind a KPI's score. Which fields matter depends on `kind`; the
// comment on each kind says. src/formats/explain renders steps in Thai or English.
enum class TraceKind {
  kResult,         // value = the result; text = the formula (empty: the reported number)
  kGroupChosen,    // id/name = group; value = the `by` value; text = by formula; detail = range
  kTarget,         // level; value = target after substitution; text = its formula; flag = strict
  kTargetMissing,  // level: no target at this level ("-"), skipped
  kTargetRaised,   // level; value = the target as written; value2 = raised to (previous level's)
  kTargetSkipped,  // level; value = the target as written, out of order, skipped
  kTopReached,     // level; value = target; value2 = points
  kInterpolated,   // value = result; level/value2/value3 = lower level, its target and points;
                   // level2/value4/value5 = upper level, its target and points; score = value6
  kStepReached,    // level reached (step scoring or below a strict target); value = points
  kBelowBasic,     // value = result; value2 = basic target; flag = interpolated from value3
  kMilestone,      // level; id = variable; name = milestone text; flag = passed (counts);
                   // a dated milestone (Milestone::due) also has flag2 = true, value = its due
                   // day, value2 = the day reported as reached (NaN: none), and detail =
                   // "on_time" | "late" | "no_date" | "not_reached"
  kCondition,      // level; text = condition; flag = held
  kPointsItem,     // id; name; value = points; flag = met; flag2 = a prerequisite not met
  kSubKpi,         // id; value = sub-KPI score; value2 = its weight; value3 = contribution
  kWeight,         // value = score; value2 = weight; value3 = weighted (score × weight / 100)
  kExempt,         // name = reason
  kNotInRound,     // value = the round asked for
  kMonitoring,     // monitoring only: reported, not scored
  kMissing,        // id = the first missing name; text = "baseline" when it is a reference
  kNotComputable,  // text = formula whose value could not be computed (0/0, ...)
  kNoGroup,        // value = the `by` value that fell in no group
  kBaseline,       // a reference read from an earlier year's result (Reference::from_result):
                   // id = its name; value = its value; level = fiscal year; level2 = round;
                   // detail = the KPI key; flag = the score was read (else the result);
                   // text = the value's Observation::source ("" = imported in its place)
  kFromAgencies,   // a value computed from other agencies' results (Kpi::from_agencies):
                   // id = the variable; value = its value (NaN: none); detail = the
                   // Observation::source that lists the agencies counted and left out
                   // (domain/from_agencies.h)
};

struct TraceStep {
  TraceKind kind = TraceKind::kResult;
  int level = -1;
  int level2 = -1;
  bool flag = false;
  bool flag2 = false;
  std::string id;
  std::string text;
  std::string detail;
  LocalizedText name;
  double value = 0, value2 = 0, value3 = 0, value4 = 0, value5 = 0, value6 = 0;
};

using Trace = std::vector<TraceStep>;

}  // namespace esar::domain
