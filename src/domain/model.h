#pragma once

// The evaluation framework as the central office defines it for one fiscal year: plain data,
// read by src/formats and compiled by the Engine. Nothing here knows about files or JSON.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/text.h"
#include "domain/cases.h"

namespace esar::domain {

enum class VariableType {
  kNumber,      // any finite number
  kPercent,     // a number, shown with "%"
  kCount,       // a whole number >= 0
  kPassFail,    // 1 = ผ่าน (pass), 0 = ไม่ผ่าน (fail)
  kNumberList,  // a fixed number of numbers, e.g. the levels of the seven DG pillars
  kDerived,     // computed per agency from `formula` over the KPI's other names
  // A calendar date (the day a dated milestone was reached): its domain::Day, the days since
  // 1970-01-01, held as a number like any reported value; written 2021-01-15 or 15/1/2564.
  kDate,
};

// A value an agency reports for a KPI (or that esar derives from those values).
struct Variable {
  std::string id;  // ASCII identifier used in formulas: [A-Za-z_][A-Za-z0-9_]*
  VariableType type = VariableType::kNumber;
  LocalizedText name;
  LocalizedText unit;
  int length = 0;             // kNumberList only: how many numbers
  std::string formula;        // kDerived only
  bool optional = false;      // a missing value counts as 0 instead of making the KPI missing
  std::optional<double> min;  // reported values outside [min, max] are refused by `esar check`
  std::optional<double> max;
};

// A name bound to a value other than this KPI's current report: a baseline of an earlier
// fiscal year ("s" = the FY2566 PMQA score) or a variable of another KPI.
struct Reference {
  std::string name;  // identifier in formulas
  std::string kpi;   // KPI whose variable is read; empty = this KPI
  std::string variable;
  int fiscal_year = 0;  // 0 = the framework's own fiscal year
  int round = 12;       // baselines are the 12-month results by default

  // An earlier year's published result to take the value from, when no value is given for
  // (kpi, variable, fiscal_year, round): e.g. s = this agency's FY2566 12-month result of the
  // KPI keyed "pmqa". esar fills it in (domain::FillBaselines) from its own published results
  // of that year or those loaded by `esar import results`; an imported value overrides it.
  struct FromResult {
    std::string key;     // the KPI key in that year's results
    bool score = false;  // read its score; false = its result value
  };
  std::optional<FromResult> from_result;
};

enum class Direction { kHigherIsBetter, kLowerIsBetter };
enum class LevelScoring { kInterpolate, kStep };

// What a result below the first (basic) target earns.
struct BelowBasic {
  enum class Rule { kZero, kInterpolateFromZeroPoint } rule = Rule::kZero;
  double zero_point = 0;  // the result worth 0 points when interpolating (usually 0)
};

// How to treat a target that goes the wrong way (e.g. a standard target below the basic one,
// the PMQA group 1 quirk): raise it to the previous level's target, or skip that level.
enum class DisorderedTargets { kRaise, kSkip };

// One level's target. An absent target is a missing level ("-" in the seeds).
struct Target {
  bool present = false;
  std::string expression;  // a number or a formula over the KPI's names ("s * 1.10")
  bool strict = false;     // reached only by a result strictly beyond it ("above s")
};

struct Criteria;

struct LevelsCriteria {
  Direction direction = Direction::kHigherIsBetter;
  LevelScoring scoring = LevelScoring::kInterpolate;
  std::vector<Target> targets;            // one per framework level, in level order
  std::optional<BelowBasic> below_basic;  // overrides the framework's rule
};

struct Milestone {
  std::string variable;  // a pass/fail variable of the KPI
  LocalizedText text;
  // A dated milestone ("plan approved by December 2563"): it passes only when `variable` passes
  // and the date variable `reached` holds a day on or before `due`. Reached after its due date,
  // or with no date reported, it does not count (the trace says which). Both set or neither.
  std::optional<Day> due;
  std::string reached;  // a date variable of the KPI: the day the agency reached the milestone
};

// Level i is reached when all milestones of level i pass (and, when cumulative, those of every
// lower level too). The score is the points of the highest level reached.
struct MilestonesCriteria {
  std::vector<std::vector<Milestone>> levels;
  bool cumulative = true;
};

struct PointsItem {
  std::string id;
  LocalizedText text;
  double points = 0;
  std::string condition;                   // formula, true when non-zero
  std::vector<std::string> prerequisites;  // ids of items that must be met for this one to count
};

// The score is the sum of the points of the items met, capped at the top level's points.
struct PointsCriteria {
  std::vector<PointsItem> items;
};

// Level i is reached when its condition holds; the score is the highest level reached.
// An empty condition is a missing level.
struct ConditionsCriteria {
  std::vector<std::string> levels;
};

// A half-open or closed interval on the group's `by` value.
struct Range {
  std::optional<double> at_least;  // by >= at_least
  std::optional<double> above;     // by >  above
  std::optional<double> at_most;   // by <= at_most
  std::optional<double> below;     // by <  below

  bool Contains(double by) const;
  std::string ToString() const;  // "350 ≤ x < 400"
};

struct Group {
  std::string id;
  LocalizedText name;
  Range range;
  std::shared_ptr<const Criteria> criteria;
};

// The agency's group is chosen by a formula over baselines (`by`); each group has criteria.
struct GroupsCriteria {
  std::string by;
  bool integer = false;  // `by` only takes whole values (a count): 0–2 and 3–6 leave no gap
  std::vector<Group> groups;
};

enum class CriteriaForm { kLevels, kMilestones, kPoints, kConditions, kGroups };

struct Criteria {
  CriteriaForm form = CriteriaForm::kLevels;
  LevelsCriteria levels;
  MilestonesCriteria milestones;
  PointsCriteria points;
  ConditionsCriteria conditions;
  GroupsCriteria groups;
  std::vector<LocalizedText> level_texts;  // each level's target as the seed words it
};

struct YearEntry {
  int fiscal_year = 0;
  LocalizedText text;
  std::optional<double> value;
};

struct PlanLink {
  std::string plan;  // national_strategy, master_plan, development_plan, reform_plan, policy
  std::vector<LocalizedText> items;
};

// Every documentation field of a KPI as seed 003 lays them out.
struct KpiDocumentation {
  LocalizedText description;
  std::vector<LocalizedText> definitions;
  LocalizedText scope;
  LocalizedText data_collection;
  LocalizedText data_source;
  LocalizedText formula_text;
  std::vector<YearEntry> baseline;
  std::vector<YearEntry> roadmap;
  std::vector<LocalizedText> steps;
  LocalizedText benefit;
  std::vector<PlanLink> plan_links;
};

// Which agencies a KPI computed from other agencies' results reads (issue 11 §2). Each list that
// is not empty narrows the set (kinds AND ministries AND codes); all empty = every agency that
// has a result of the KPI read ("those assigned KPI k").
struct AgencySelector {
  std::vector<std::string> kinds;    // agency kinds: "department", "province", ...
  std::vector<std::string> parents;  // ministries: the agencies' parent codes
  std::vector<std::string> codes;    // a list of agencies
  bool Empty() const { return kinds.empty() && parents.empty() && codes.empty(); }
};

// What is computed over the set: the share (0–100) or count of agencies whose result reached,
// or the average, sum, minimum or maximum of their results.
enum class PeerMeasure { kShare, kCount, kAverage, kSum, kMin, kMax };
const char* PeerMeasureName(PeerMeasure measure);  // "share", "count", "average", ...

// A KPI whose value is computed from other agencies' results of the same fiscal year and round,
// in any framework (issue 11 §2): it fills `variable` of the KPI for every agency assigned it,
// so that the value enters scoring like a typed one. domain/from_agencies.h computes it.
struct FromAgencies {
  std::string variable;  // a number, percent or count variable of this KPI
  std::string key;       // the key of the KPI whose results are read
  AgencySelector agencies;
  PeerMeasure measure = PeerMeasure::kShare;
  // For share and count: reached when the agency's level is at least `level` (1 = the first
  // level, as results number them), or its result is at least / at most the value given.
  int level = 0;  // 0 = not by level
  std::optional<double> at_least;
  std::optional<double> at_most;
};

// Which of a KPI's variables the data-catalog check fills (each may be empty: not used).
struct CatalogRule {
  std::string datasets_variable;          // the number of datasets in the catalog
  std::string complete_variable;          // the number whose 14 mandatory items are all right
  std::string complete_percent_variable;  // complete ÷ datasets × 100
};

struct Kpi {
  std::string id;  // "1", "4.1"
  // The KPI's name across fiscal years ("pmqa", "digital-readiness"), empty when it has none:
  // ids are renumbered from year to year, keys are not. Earlier years' results are found by it.
  // `esar check` wants it a valid key (IsValidKpiKey) and unique in the framework.
  std::string key;
  std::string component;
  LocalizedText name;
  bool is_new = false;
  bool continuing = false;
  bool reform_plan = false;
  bool monitoring_only = false;
  LocalizedText unit;
  KpiDocumentation doc;
  std::vector<int> rounds = {6, 12};  // the rounds in which it is scored
  std::vector<Variable> variables;
  std::vector<Reference> references;
  std::string result;                // formula; empty = the single reported number
  std::optional<Criteria> criteria;  // absent for a composite KPI
  // Present when the result is computed from case records (seed 002 KPIs 1 and 2): `esar cases`
  // and the server's case-log upload fill `cases->on_time_variable` and `counted_variable`.
  std::optional<CaseRule> cases;
  // Present when the result is computed from other agencies' results (issue 11 §2).
  std::optional<FromAgencies> from_agencies;
  // Present when variables are computed from the agency's data catalog (issue 11 §3): `esar
  // catalog check` and the server's catalog upload fill them from the datasets checked.
  std::optional<CatalogRule> catalog;
  double weight_in_parent = 0;       // for a sub-KPI: its share (of 100) of the parent's score
  std::vector<Kpi> sub_kpis;
};

struct LevelDefinition {
  LocalizedText name;
  double points = 0;
};

struct GradeBand {
  double min_total = 0;
  LocalizedText name;
};

struct Component {
  std::string id;
  LocalizedText name;
  double share = 0;  // of 100
};

struct Decimals {
  int result = 2;
  int score = 2;
  int total = 3;
};

// One agency's deviation from, or addition to, the framework for one KPI.
struct AssignedKpi {
  std::string kpi;
  std::optional<double> weight;
  std::shared_ptr<const Criteria> criteria;  // the agency's own targets, when set
  bool exempt = false;
  LocalizedText exempt_reason;
};

// Gives the KPIs in `kpis` to every agency in `agencies` ("*" = all). Later rules override
// earlier ones for the same agency and KPI, field by field.
struct AssignmentRule {
  std::vector<std::string> agencies;
  std::vector<AssignedKpi> kpis;
};

struct Framework {
  int fiscal_year = 0;  // Buddhist Era
  std::string agency_kind;
  LocalizedText title;
  std::vector<LevelDefinition> levels;  // basic, standard, advanced by default
  Decimals decimals;
  BelowBasic below_basic;
  DisorderedTargets disordered_targets = DisorderedTargets::kRaise;
  std::vector<GradeBand> grades;  // sorted by min_total, highest first
  std::vector<Component> components;
  std::vector<Kpi> kpis;
  std::vector<AssignmentRule> assignments;
};

struct Agency {
  std::string code;
  LocalizedText name;
  std::string kind;
  std::string parent;  // code of the ministry (another agency row), or empty
  Location where;      // where it was read, for messages
  // The agency's contact e-mail address ("" for none); nullopt when a file read has no such
  // column or field, so that importing it keeps the address esar holds. Not read by scoring.
  std::optional<std::string> email;
};

// One reported or baseline value, in long form.
struct Observation {
  std::string agency;
  std::string kpi;
  std::string variable;
  int fiscal_year = 0;
  int round = 12;
  std::vector<double> values;  // one number, or a list's numbers
  Location where;              // where it was read, for messages
  // "" for a reported or imported value; for a baseline esar filled in from an earlier year's
  // result (domain::FillBaselines): domain::kFilledFromPublished or kFilledFromImported.
  std::string source;
};

// The KPI with this id among `kpis` and their sub-KPIs, or nullptr.
const Kpi* FindKpi(const std::vector<Kpi>& kpis, const std::string& id);

// The KPI with this key among `kpis` and their sub-KPIs, or nullptr (also for an empty key).
const Kpi* FindKpiByKey(const std::vector<Kpi>& kpis, const std::string& key);

// The ids of the KPIs and sub-KPIs among `kpis` whose values scoring the KPIs `ids` reads: the
// whole top-level KPI each belongs to (a parent is scored from its sub-KPIs), and the same for
// every KPI one of those refers to (Reference::kpi), transitively. An agency scored with only
// these KPIs' observations gets, for each of `ids`, the score it gets with all of them. Ids not
// among `kpis` add nothing.
std::set<std::string> KpisReadToScore(const std::vector<Kpi>& kpis,
                                      const std::set<std::string>& ids);

// Where a KPI's variable comes from when nobody types it: its from_agencies rule (other
// agencies' results, filled when results are computed), its case log (cases: the on-time and
// counted variables, filled by the upload) or its data catalog (catalog: the datasets, complete
// and complete-percent variables, filled by the catalog upload). kTyped for every other
// variable. Case-log and catalog variables are typed until the agency's first upload of the
// kind for the KPI and round (service::UploadedSources).
enum class VariableSource { kTyped, kFromAgencies, kCaseLog, kCatalog };
VariableSource SourceOfVariable(const Kpi& kpi, const std::string& variable);

// A KPI key: 1–64 characters of a–z, 0–9, '-' and '_', starting with a letter ("pmqa",
// "digital-readiness"). Lower case only, so that "PMQA" and "pmqa" cannot name two KPIs, and
// nothing that needs escaping in CSV, URLs or SQL LIKE patterns.
bool IsValidKpiKey(const std::string& key);

}  // namespace esar::domain
