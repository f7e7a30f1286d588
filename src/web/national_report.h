#pragma once

// The national annual report of a fiscal year from esar's published results and the earlier
// years' (internal to src/web: the page /reports/national, its PDF and XLSX, and `esar report
// national`): grades per kind, averages per ministry and kind, each shared KPI's levels and the
// share at the advanced level, the change from earlier years, the agencies that rose and fell
// most, and short sentences generated from those figures, in the caller's language.

#include <string>
#include <vector>

#include "common/status.h"
#include "render/national_report.h"
#include "web/page_support.h"
#include "web/report_model.h"

namespace esar::web {

// The report of fiscal year `fiscal_year` (Buddhist Era), `round` (6 or 12), over every round
// of that year and round length with published results. kNotFound when there is none.
Result<render::NationalReport> BuildNationalReport(PageCall& call, int fiscal_year, int round,
                                                   const FrameworkLoader& load);

// The fiscal years (newest first) with published results in round `round`: what the page offers.
Result<std::vector<int>> PublishedYears(PageCall& call, int round);

}  // namespace esar::web
