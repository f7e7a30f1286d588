#pragma once

// The data-catalog parts of the pages (issue 11 §3; internal to src/web): the section of a KPI's
// report form and review page whose variables a data catalog fills (the current upload's counts,
// the upload form), and the dataset page (/catalogs/{id}) the agency's users and the evaluators
// read: each dataset with what is missing or wrong, filtered complete / incomplete, paged, with
// its CSV and XLSX downloads. The case-log pages' pattern (pages_cases.h), sharing its helpers.

#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "domain/model.h"
#include "web/page_support.h"

namespace esar::web {

// The model of the catalog section of `kpi`'s report form (or review page) for `agency` in round
// `round_id` (null when no catalog fills the KPI's variables): the current upload's counts, the
// variables they filled with their values, a link to its dataset page, and the upload form's
// address when `can_upload` (`back` is the page the form returns to).
nlohmann::json CatalogSectionModel(PageCall& call, const Clock& clock, const domain::Kpi& kpi,
                                   int64_t round_id, const std::string& agency, bool can_upload,
                                   const std::string& back);

// GET /catalogs/{id}: the upload's counts and the variables they filled, its datasets filtered
// by ?status=complete|incomplete, in file order or (?sort=title) in Thai order of their titles,
// paged by ?page= (50 a page; a page past the end shows the last), the downloads, and the
// agency's other catalog uploads of that KPI and round. For those DataFiles::MaySee allows.
HttpResponse CatalogListPage(PageCall& call, const Clock& clock);

// The page answering a refused catalog (a malformed file, one without datasets, one too large):
// the refusal in the caller's language with the other beside it, and the upload form again
// (to `back` + "/catalog"), with the way back to the KPI's page. 400.
HttpResponse CatalogRefusedPage(PageCall& call, const Status& error, const std::string& back);

}  // namespace esar::web
