#pragma once

// The authoring pages' forms over a framework document: a KPI (its name, key, component, unit,
// flags, rounds, result formula, variables and documentation) and the components with their
// shares, each shown as named form fields and applied back to the JSON document.
//
// Applying works on the JSON itself and keeps every value whose field the form did not change
// exactly as it was (a number written 70 stays 70, a text given as a plain string stays one, a
// field the form does not know stays), so that opening a form and saving it unchanged gives the
// same document: ApplyKpiForm(kpi, KpiFormFields(kpi)) == kpi.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "domain/check.h"

namespace esar::formats {

// A form as sent: field name -> value. Rows are numbered from 0 ("variables.2.id"); a localized
// text is two fields ("name.th", "name.en"); a checkbox is present ("1") when ticked.
using FormFields = std::map<std::string, std::string>;

// The most rows of one kind (variables, definitions, baselines...) a form may send: far more
// than any framework has, small enough that a forged form cannot make the page or save slow.
inline constexpr int kMaxFormRows = 200;

// The deepest a group's criteria nest on the criteria form: groups inside groups inside groups
// (field names "criteria.groups.G.criteria.groups.H.criteria.groups.I.criteria..."); deeper
// criteria are the JSON editor's, and a form sending deeper groups is refused.
inline constexpr int kMaxFormGroupDepth = 3;

// The deepest a sub-KPI lies below its top-level KPI (the format's limit, §2.2).
inline constexpr int kMaxSubKpiDepth = 4;

// The fields of the KPI form for `kpi` (a KPI object of a framework document, top-level or not).
// A sub-KPI's form also has its share of its parent's score ("weight"); a composite KPI's has
// "criteria.form" "sub_kpis" and a row per sub-KPI ("sub_kpis.N.id", ".name.th", ".name.en",
// ".weight").
FormFields KpiFormFields(const nlohmann::json& kpi);

// `kpi` with the KPI form `fields` applied: every field the form shows is taken from `fields`
// (an absent one counts as empty or unticked); other members of `kpi` (sub-KPIs, references,
// case rules...) are kept. The criteria's fields are named under "criteria" ("criteria.form"
// and by form: levels "criteria.direction", "criteria.scoring", "criteria.targets.N.value"/
// ".strict" with a blank value for a missing level; milestones "criteria.cumulative",
// "criteria.mlevel.N", "criteria.levels.N.M.variable"/".text.th"/".due" typed as day/month/BE
// year/".reached"; conditions "criteria.conditions.N"; points "criteria.items.N.id"/".points"/
// ".when"/".text.th"/".requires" as earlier items' ids separated by commas; groups
// "criteria.by", "criteria.integer", "criteria.groups.G.id"/".name.th"/".low_kind" (at_least or
// above)/".low"/".high_kind" (at_most or below)/".high" and the group's own criteria under
// "criteria.groups.G.criteria", themselves groups at most kMaxFormGroupDepth deep; every form
// "criteria.texts.N.th"/".en"). Deeper criteria are kept for the JSON editor. A composite KPI's
// rows change its sub-KPIs' names and shares only, every other member of theirs kept (a row not
// sent keeps its sub-KPI). A sub-KPI (`top_level` false) takes its "weight". A form chosen anew (a
// KPI without criteria, or "criteria.form" changed) makes new criteria from the fields sent alone.
// An untouched target, milestone, item, group or text keeps its JSON exactly. `components` are the
// framework's component ids: when there are any, a top-level KPI's component must be one of
// them. Blank rows are dropped.
// kInvalidInput, in Thai and English, naming the form field in where().json_path ("name.th",
// "variables.1.type", "criteria.items.2.requires"), for a missing name, a malformed key or
// variable id, a type esar does not know, a number that is not one, a derived variable without
// a formula, a list without a length, a points item without its condition or requiring an item
// that does not come before it, a group without an id or with a bound whose kind is unchosen,
// groups nested deeper than kMaxFormGroupDepth, a share not from 0 to 100, a sub-KPI row that is
// not one of the KPI's, criteria chosen for a composite KPI (its sub-KPIs go first) or
// "sub_kpis" chosen for a KPI that has none (its first is added on its own page).
Result<nlohmann::json> ApplyKpiForm(const nlohmann::json& kpi, const FormFields& fields,
                                    const std::vector<std::string>& components, bool top_level);

// The fields of the components form for `document` (a framework document): one row per
// component ("components.0.id", ".name.th", ".name.en", ".share").
FormFields ComponentsFormFields(const nlohmann::json& document);

// `document` with its components replaced by the form's rows (blank rows dropped; no rows left
// removes `components` unless the document had an empty list). kInvalidInput naming the field
// for a row without an id or share, a malformed or repeated id, a share that is not a number
// from 0 to 100.
Result<nlohmann::json> ApplyComponentsForm(const nlohmann::json& document,
                                           const FormFields& fields);

// The KPIs-and-weights form of one agency (or of several at once): "assigned.<kpi>" ("1" when
// ticked) and "weight.<kpi>" for each top-level KPI of the framework.

// The form's fields for `agency` in framework `document` as its assignment rules (§3) give
// them: every KPI a rule naming the agency or "*" mentions is ticked, with the weight of the
// last such rule that sets one (as written: 20 stays "20").
FormFields AssignmentFormFields(const nlohmann::json& document, const std::string& agency);

// One agency's form also shows its exemptions and own targets: "exempt.<kpi>" ("1"), its reason
// "exempt.<kpi>.th"/".en", and for a KPI whose criteria are levels the targets as the criteria
// form names them under "own.<kpi>" ("own.<kpi>.targets.N.value"/".strict"): the agency's own
// when a rule gives it levels criteria, else the KPI's. "own.shown" is "1" (the form says these).
FormFields AgencyOwnFormFields(const nlohmann::json& document, const std::string& agency);

// The KPIs the form ticks with their weights, in the framework's order; a KPI ticked without a
// weight has 0 (which `esar check` names). kInvalidInput at "weight.<kpi>" for a weight that is
// not a number from 0 to 100, or typed for a KPI not ticked.
Result<std::vector<std::pair<std::string, double>>> AssignmentFormWeights(
    const nlohmann::json& document, const FormFields& fields);

// `document` with its assignment rules changed so that every agency of `agencies` (codes, not
// "*") is assigned exactly the KPIs the form ticks, with the form's weights, and keeps its own
// criteria and exemptions for those KPIs; the rules of every other agency mean what they meant.
// Rules that name some of `agencies` lose them (a rule naming others too is split in place);
// the chosen agencies' part keeps only own criteria and exemptions; one rule naming `agencies`
// with every ticked KPI's weight comes last (the last rule, when it names exactly them).
// kInvalidInput as AssignmentFormWeights, and at "assigned.<kpi>" for a KPI a rule for every
// agency ("*") assigns and the form does not tick (§3 cannot take it from one agency).
// For one agency with "own.shown" (AgencyOwnFormFields), the exemptions and own targets sent
// replace the rules' for every ticked KPI: an exemption with its reason (required in Thai, at
// "exempt.<kpi>.th"); own targets, applied as the criteria form applies levels targets to the
// agency's own criteria (or the KPI's), written only when they differ from the KPI's criteria.
// kInvalidInput also at "exempt.<kpi>" for a KPI exempted but not ticked, or exempted by a
// rule for every agency and not on the form.
Result<nlohmann::json> ApplyAssignmentForm(const nlohmann::json& document,
                                           const std::vector<std::string>& agencies,
                                           const FormFields& fields);

// The JSON pointer of KPI or sub-KPI `kpi_id` in `document` ("/kpis/3", "/kpis/3/sub_kpis/0"),
// looked for at most kMaxSubKpiDepth below the top level; "" when there is none.
std::string KpiPath(const nlohmann::json& document, const std::string& kpi_id);

// The JSON pointer of the parent of the sub-KPI at `kpi_path`, or "" for a top-level KPI.
std::string ParentKpiPath(const std::string& kpi_path);

// A framework document with one KPI form applied, and where that KPI is in it.
struct KpiFormChange {
  nlohmann::json document;
  std::string kpi_path;  // "/kpis/3", "/kpis/3/sub_kpis/1"
};

// `document` with the KPI form `fields` applied (ApplyKpiForm, `components` as there) to KPI or
// sub-KPI `kpi_id`; with `add`, to a new KPI of that id made from the form alone: a top-level
// KPI after the others, or with `parent_id` a sub-KPI after the parent's others, its siblings'
// shares from "shares.<id>" (ApplySubKpiShares) and a parent that had criteria losing them (a
// composite KPI has none). Not checked by `esar check` (the caller does). kNotFound for an
// unknown KPI or parent; kConflict for a KPI added that exists already (anywhere); kInvalidInput
// at "id" for a malformed id or a parent kMaxSubKpiDepth deep, and as ApplyKpiForm.
Result<KpiFormChange> ApplyKpiFormAt(const nlohmann::json& document, const std::string& kpi_id,
                                     const FormFields& fields,
                                     const std::vector<std::string>& components, bool add,
                                     const std::string& parent_id);

// The shares of the sub-KPIs of `parent` (a KPI object) but `except`, as a form shows them
// beside a sub-KPI's own (adding or removing one changes them together): "shares.<id>".
FormFields SubKpiShareFields(const nlohmann::json& parent, const std::string& except);

// `parent` with the shares "shares.<id>" of `fields` applied to its sub-KPIs; a sub-KPI whose
// field is absent or unchanged keeps its JSON. kInvalidInput at "shares.<id>" for a share that
// is not a number from 0 to 100. The sum is `esar check`'s to judge (sub-kpi-weights).
Result<nlohmann::json> ApplySubKpiShares(const nlohmann::json& parent, const FormFields& fields);

// The form field a finding at `json_path` of a framework document concerns, for the KPI at
// `kpi_path` ("/kpis/3"): "name", "key", "component", "unit", "result", "variables.N",
// "weight", a sub-KPI's row ("sub_kpis.1", "sub_kpis.1.weight") or "sub_kpis" for its sub-KPIs
// as a whole, a criteria field ("criteria.targets.1.value", "criteria.levels.0.2.due"), "criteria"
// for the criteria as a whole, a documentation field ("scope", "definitions"...), or "" when the
// path lies elsewhere in the KPI or outside it.
std::string KpiFieldOfPath(const std::string& kpi_path, const std::string& json_path);

}  // namespace esar::formats

namespace esar::formats {

// The form field `finding` concerns for the KPI at `kpi_path` whose key is `kpi_key`: as
// KpiFieldOfPath, "weight" for a sub-KPI's when its siblings' shares do not
// sum to 100, and "key" for a key another KPI has too (`esar check` reports it at whichever
// KPI comes second, the other one).
// With the KPI form's `fields`, an engine error that names no path ("KPI 3 level 2 target:
// formula \"x * 2\": unknown name") is placed at the criteria field holding that formula: the
// target of that level (a group's too), a condition, a points item's "when" or the groups' "by".
std::string KpiFieldOfFinding(const std::string& kpi_path, const std::string& kpi_key,
                              const domain::Finding& finding,
                              const FormFields* fields = nullptr);

}  // namespace esar::formats
