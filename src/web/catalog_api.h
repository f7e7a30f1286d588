#pragma once

// Data catalogs over HTTP (issue 11 §3; docs/openapi.json, "Data catalogs"): the agency's upload
// of a KPI's data catalog for a round, the uploads and their counts, each dataset with what is
// missing or wrong (filtered complete / incomplete, paged in SQL) and the datasets as CSV or
// XLSX. The pages use the same upload and lists.

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "formats/sheet_writer.h"
#include "service/catalogs.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/http.h"

namespace esar::web {

// POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog: multipart/form-data with one
// file part "catalog" (the CKAN package_search JSON export or a CSV of CKAN fields), checked
// as MakeDataUpload says before and while it streams (at most `limits.max_file_bytes`, 413
// beyond). Answers 201 with CatalogUploadJson (200 with "unchanged": true when the file was that
// of the current upload); 400 in Thai and English when the file is malformed (naming its line
// and, for JSON, the path), holds no dataset, or the KPI takes no catalog (nothing stored); 409
// when the report is submitted or accepted, or reporting is closed.
UploadStarter MakeCatalogUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                const Clock& clock, const UploadLimits& limits);

// The GET routes: the uploads of an agency's KPI in a round, one upload, its datasets (JSON,
// paged, ?status=complete|incomplete), and their download (?format=csv|xlsx).
void RegisterCatalogRoutes(Router& router, storage::DatabasePool& pool, const Clock& clock);

// An upload as the API gives it (docs/openapi.json: CatalogUpload).
nlohmann::json CatalogUploadJson(const service::DataUpload& upload, bool unchanged = false);

// The datasets' download (`status` as the list's filter): one row per dataset with what is
// missing or wrong in Thai and in English. The file name names the upload, agency and KPI.
HttpResponse CatalogDatasetsDownload(storage::Database& db, const Clock& clock,
                                     const service::Actor& actor, const service::DataUpload& upload,
                                     const std::string& status, formats::SheetFormat format);

}  // namespace esar::web
