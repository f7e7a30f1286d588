#pragma once

// The case-log parts of the pages (issue 11 §1; internal to src/web): the section of a KPI's
// report form whose result is computed from case records (the current upload's counts, the
// upload form), and the case list page (/case-logs/{id}) reporters, approvers and evaluators
// read, filtered by verdict and paged, with its CSV and XLSX downloads.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "domain/model.h"
#include "service/case_logs.h"
#include "service/cycle.h"
#include "service/data_files.h"
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

// What the pages of every kind of data upload share (case logs, data catalogs).

// The pager of an upload's rows: page `page` of those `total` rows make at `per_page` a page,
// with the links to the previous and next pages under `base` keeping `filter_query`
// ("verdict=late", or ""): {"page", "pages", "prev", "next"} (null links at either end).
nlohmann::json UploadPager(const std::string& base, const std::string& filter_query, int64_t page,
                           int64_t total, int64_t per_page);

// The address of a KPI page's upload form for `route` ("case-log", "catalog"): `back` (the
// KPI's page) + "/" + route, with the session's CSRF token (a multipart form cannot send it as a
// header) and the way back.
std::string UploadFormUrl(PageCall& call, const std::string& back, const std::string& route);

// The section of a KPI's page for an upload of `kind` posted to `route`: the agency's current
// upload for the KPI and round as `summary` gives it ("current", absent when none), whether the
// form is shown ("can_upload") and its address ("upload_url", UploadFormUrl).
nlohmann::json UploadSectionModel(
    PageCall& call, const Clock& clock, const domain::Kpi& kpi, int64_t round_id,
    const std::string& agency, const std::string& kind, const std::string& route, bool can_upload,
    const std::string& back,
    const std::function<nlohmann::json(const service::DataUpload&)>& summary);

// The round of an upload and its framework, for the upload's page.
struct UploadPlace {
  service::RoundInfo round;
  service::StoredFramework framework;
};
Result<UploadPlace> UploadPlaceOf(PageCall& call, const Clock& clock,
                                  const service::DataUpload& upload);

// What every upload's page shows besides its own rows' columns and filters: the agency, the KPI
// (`kpi` may be null: a KPI no longer in the framework), the round, `rows` with `total` (all
// pages), the downloads of the rows as filtered (`export_base` + "format=csv" / "format=xlsx"),
// the agency's uploads of that kind for the KPI and round, each as `summary` gives it with this
// one marked ("this"), this upload's own summary ("summary"), the way back (UploadBack) and the
// pager (UploadPager: `page` of `per_page` under `base` keeping `filter_query`).
struct UploadPageRows {
  nlohmann::json rows;
  int64_t total = 0;
  int64_t page = 1;
  int64_t per_page = 50;
  std::string base, filter_query, export_base;
};
nlohmann::json UploadPageModel(
    PageCall& call, const Clock& clock, const service::DataUpload& upload, const UploadPlace& place,
    const domain::Kpi* kpi, UploadPageRows rows,
    const std::function<nlohmann::json(const service::DataUpload&)>& summary);

// Where an upload's page leads back to: for evaluators and admins the review page of the
// submission the upload saved (else the review queue), for the agency's users the KPI's page.
std::string UploadBack(PageCall& call, const service::DataUpload& upload);

// The page shown when an uploaded log is refused for bad rows: every problem listed (file, line,
// column, the message in the caller's language), with the way back to the form.
HttpResponse CaseLogProblemsPage(PageCall& call, const nlohmann::json& details,
                                 const std::string& message, const std::string& back);

}  // namespace esar::web
