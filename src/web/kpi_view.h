#pragma once

// A KPI as pages show it (internal to src/web): its documentation and criteria with an
// agency's own targets, the form fields of its variables, and the what-if line.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "domain/engine.h"
#include "domain/model.h"
#include "service/cycle.h"
#include "service/data_files.h"
#include "storage/database.h"
#include "web/page_support.h"

namespace esar::web {

// The agency with `code`, or kNotFound.
Result<domain::Agency> FindAgency(storage::Database& db, const Clock& clock,
                                  const std::string& code);

// The criteria that apply to `agency` for `kpi`: the last assignment rule naming the agency
// (or "*") that sets criteria, else the KPI's own; nullptr for a composite KPI.
const domain::Criteria* EffectiveCriteria(const domain::Framework& framework,
                                          const std::string& agency, const domain::Kpi& kpi);

// {"id", "name", "unit", "description", "definitions", "scope", "formula", "data_source",
//  "steps", "baseline", "benefit", "criteria": {...}} for templates/part_kpi_doc.mustache.
// With `known` (one agency's values by formula name, e.g. from AgencyKnownValues), the criteria
// also say the agency's group and its targets as numbers ("agency_lines", "agency_levels").
nlohmann::json KpiDocModel(const PageCall& call, const domain::Framework& framework,
                           const domain::Kpi& kpi, const domain::Criteria* criteria,
                           const std::map<std::string, double>* known = nullptr);

// One agency's values that its criteria for `kpi` can read before it reports: the KPI's
// references (baselines of earlier years, filled from published results as when results are
// computed, and values of other KPIs), as round `round_id` holds them; with `round_id` 0 (a
// framework being written may have no round yet), the newest round of `round` (6 or 12) of
// the framework's fiscal year and kind, or, when there is none, the agency's imported data and
// the published baselines.
// Empty when they cannot be read.
std::map<std::string, double> AgencyKnownValues(PageCall& call, const domain::Framework& framework,
                                                int64_t round_id, int round,
                                                const domain::Agency& agency,
                                                const domain::Kpi& kpi);

// The variables an agency reports for `kpi` as form fields, filled from `values` (a JSON
// object as stored; may be empty): [{"id", "field", "name", "unit", "number"|"count"|
// "passfail"|"list"|"date", "value", "items": [...], "date_field": {...} for a date, as
// templates/part_date_field takes it}]. Derived variables are left out.
// With `computed_read_only` (the agency's KPI form), a variable that nobody types
// (domain::SourceOfVariable: other agencies' results, a case log, a data catalog) is instead
// {"computed": true, "value", "source": where it comes from and how it changes, in the page's
// language}: the form shows it read-only and the service keeps its stored value. A case log's
// or a catalog's counts are computed only once one is uploaded (`uploaded`); before that they
// are typed.
nlohmann::json VariableFields(const PageCall& call, const domain::Kpi& kpi,
                              const nlohmann::json& values, bool computed_read_only = false,
                              const service::UploadedSources& uploaded = {});

// A reported or verified value as a page shows it: numbers with `decimals` places and
// thousands separated, lists joined by ", ", "–" for none.
std::string DisplayValue(const nlohmann::json& value, int decimals);

// A reported date value (a date variable's: "2021-01-15", "15/1/2564" or its day number) as a
// page shows it: "15 ม.ค. 2564" / "15 Jan 2021"; a string that is no date as written; "–" else.
std::string DateValueText(const nlohmann::json& value, Lang lang);

// The values of a submitted form (fields "v_<id>", "v_<id>_<i>" for lists) as the JSON object
// the reporting service stores. Empty fields are left out. An error names the variable whose
// value is not a number.
Result<nlohmann::json> ValuesFromForm(const PageCall& call, const domain::Kpi& kpi);

// The what-if line for `agency` with `values` for `kpi_id` in `round`, every other KPI with
// the values every KPI page uses (service::Reporting::CurrentValuesOf: verified once accepted,
// else as last reported, else imported): {"ok", "result", "score", "total", "weight", "text",
// "missing", "basis"} ("weight" 0 when exempt or not assigned); "text" is the sentence to show
// ("คิดเป็น 62.50 คะแนน คะแนนรวมจะเป็น 81.250"), "basis" says which values the total uses,
// `this_kpi_source` (a message key) naming those of this KPI.
// With `known`, it also gives, from the same values read once, what AgencyKnownValues gives for
// the KPI (its references' values, baselines filled in), so that a page showing both the line
// and the agency's criteria does not read the round's values twice; left empty when they could
// not be read.
nlohmann::json WhatIfModel(PageCall& call, const domain::Framework& framework,
                           const service::RoundInfo& round, const domain::Agency& agency,
                           const std::string& kpi_id, const nlohmann::json& values,
                           const std::string& this_kpi_source = "whatif.basis_form",
                           std::map<std::string, double>* known = nullptr);

}  // namespace esar::web
