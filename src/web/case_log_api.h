#pragma once

// Case logs over HTTP (issue 11 §1; docs/openapi.json, "Case logs"): the agency's upload of a
// KPI's case log for a round, the uploads and their counts, each case's verdict (filtered by
// verdict, paged) and the verdicts as CSV or XLSX. The pages use the same upload and list.

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "service/case_logs.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/http.h"

namespace esar::web {

// POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log: multipart/form-data with a
// file part "cases" and, optionally, a file part "pauses" (CSV or XLSX each). Who asks is
// checked from the headers before the body is read (the agency's reporters only); each file
// streams to the file store's temporary area, at most `limits.max_file_bytes` (413 beyond),
// and is kept only when the log is accepted. Answers 201 with CaseLogUploadJson (200 with
// "unchanged": true when the files were those of the current upload); 400 with the error shape
// whose details are {"problem_count", "problems": [{"file", "line", "column", "message_th",
// "message_en"}]} when rows are bad (nothing stored); 409 when the report is submitted or
// accepted, or reporting is closed. At most `limits.max_case_log_cases` cases.
UploadStarter MakeCaseLogUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                const Clock& clock, const UploadLimits& limits);

// The GET routes: the uploads of an agency's KPI in a round, one upload, its verdicts (JSON,
// paged, ?verdict=), and their download (?format=csv|xlsx).
void RegisterCaseLogRoutes(Router& router, storage::DatabasePool& pool, const Clock& clock);

// An upload as the API gives it (docs/openapi.json: CaseLogUpload).
nlohmann::json CaseLogUploadJson(const service::DataUpload& upload, bool unchanged = false);

// A refused log's problems as the error details above.
nlohmann::json CaseLogProblemsJson(const service::CaseLogUploadOutcome& outcome);

}  // namespace esar::web
