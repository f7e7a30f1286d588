#pragma once

// The KPI form's section "where the values come from" (issue 12 §1): a KPI's references
// (baselines of earlier years, other KPIs' values, earlier years' published results), its case
// rule (docs/formats.md §14.1), its rule over other agencies' results (§16.1) and its data
// catalog variables (§15), each as named form fields. framework_form.cpp's KpiFormFields and
// ApplyKpiForm call these; the authoring page lays the fields out.
//
// Field names ("sources.shown" is "1" on every KPI form that shows the section; a form without
// it leaves the four members as they are):
//   references.N.name / .source ("kpi" or "result") / .kpi (blank: this KPI) / .variable /
//     .fiscal_year (B.E.; blank: the framework's) / .round ("6" or "12") / .key / .read
//     ("result" or "score")
//   cases.kinds.<kind> / cases.excluded.<1-6> / cases.pause.<ria|committee|outside> ("1")
//   cases.cutoff.6 / cases.cutoff.12 (day/month/B.E. year) / cases.on_time / cases.counted
//   cases.backlog.round.6 / .round.12 / cases.backlog.kinds.<kind> ("1")
//   cases.classes.N.id / .name.th / .name.en / .standard / .standard_unit ("months" or
//     "days") / .<sections|maps|maps_complex|annex_pages>.at_least / .at_most
//   cases.classes.N.windows.W.from / .to (day/month/B.E. year) / .round.6 / .round.12 ("1")
//   from_agencies.variable / .key / .measure / .level / .at_least / .at_most
//   from_agencies.kinds.<kind> / .ministries.<code> / .codes.<code> ("1")
//   catalog.datasets / catalog.complete / catalog.complete_percent

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "formats/framework_form.h"

namespace esar::formats {

// The kinds of case the case rule's form offers (the seeds' words); a kind a framework names
// besides these is shown too.
const std::vector<std::string>& OfferedCaseKinds();

// The case numbers a class's conditions read, in the form's order.
const std::vector<std::string>& CaseConditionFields();

// The measures of a rule over other agencies' results, in the form's order.
const std::vector<std::string>& PeerMeasures();

// Adds the section's fields for `kpi` (a KPI object) to `out`, "sources.shown" included.
void AddSourcesFields(FormFields& out, const nlohmann::json& kpi);

// `kpi` (the KPI as the form changes it, its variables already applied) with the section's
// fields applied, when `fields` has "sources.shown"; `original` is the KPI the form showed.
// A part the form leaves unchanged keeps its JSON exactly (an unchanged reference row, the case
// rule, the agencies rule, the catalog variables); a changed one is written from the form,
// keeping what the form does not show (a class condition's "above"/"below").
// kInvalidInput in Thai and English at the field: a reference without a name or with a
// malformed one, with neither a KPI variable nor a published result (no variable, or "result"
// without its key), a malformed key, a year that is not a B.E. year 2400-2800; a case rule
// without kinds, cut-off or class, a date that is not day/month/B.E. year, a class without an
// id or standard, a window without both dates or rounds or ending before it starts, a variable
// (of the case rule, the agencies rule or the catalog) that is not one of the KPI's; an agencies
// rule without its variable or key, an unknown measure, a level or bounds where the measure
// takes none or neither where it needs one, a KPI with both a case rule and an agencies rule.
Status ApplySourcesForm(nlohmann::json& kpi, const nlohmann::json& original,
                        const FormFields& fields);

// The section's field a path inside a KPI concerns (`rest`: the path after the KPI's own, such
// as "references/1/from_result/key", "cases/classes/2/windows/0/to", "catalog/variables/
// complete"), or "" when the path is not one of the section's.
std::string SourcesFieldOfPath(const std::string& rest);

}  // namespace esar::formats
