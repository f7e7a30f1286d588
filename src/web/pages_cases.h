#pragma once

// The case-log parts of the pages (issue 11 §1; internal to src/web): the section of a KPI's
// report form whose result is computed from case records (the current upload's counts, the
// upload form), and the case list page (/case-logs/{id}) reporters, approvers and evaluators
// read, filtered by verdict and paged, with its CSV and XLSX downloads.

#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "domain/model.h"
#include "service/case_logs.h"
#include "web/page_support.h"

namespace esar::web {

// The model of the case-log section of `kpi`'s report form for `agency` in round `round_id`
// (null when the KPI is not computed from case records): the current upload's counts with a
// link to its case list, and the upload form's address when `can_upload` (`back` is where the
// form returns to).
nlohmann::json CaseLogSectionModel(PageCall& call, const Clock& clock, const domain::Kpi& kpi,
                                   int64_t round_id, const std::string& agency, bool can_upload,
                                   const std::string& back, int decimals);

// GET /case-logs/{id}: the upload's counts and result, its cases filtered by ?verdict= and paged
// by ?page= (50 a page), the downloads, and the agency's other uploads of that KPI and round.
HttpResponse CaseLogListPage(PageCall& call, const Clock& clock);

// The page shown when an uploaded log is refused for bad rows: every problem listed (file, line,
// column, the message in the caller's language), with the way back to the form.
HttpResponse CaseLogProblemsPage(PageCall& call, const nlohmann::json& details,
                                 const std::string& message, const std::string& back);

}  // namespace esar::web
