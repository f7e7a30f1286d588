#pragma once

// What the data-upload routes share (case logs, data catalogs; issue 11): the multipart upload
// of an agency's files for a KPI in a round, streamed to the file store's temporary area and
// handed to the kind's service, and the GET routes' preamble. The routes themselves are in
// case_log_api.cpp and catalog_api.cpp.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "service/actor.h"
#include "service/data_files.h"
#include "storage/database.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/http.h"

namespace esar::web {

// One kind of data upload over HTTP.
struct DataUploadSpec {
  std::vector<std::string> roles;     // the file parts taken ("cases", "pauses"; "catalog")
  std::vector<std::string> optional;  // those that may be left out (an empty file input is none)
  // What a caller who is not the agency's reporter may not do, the agency's code following
  // ("upload case logs for agency "), for the refusal.
  std::string what_th, what_en;
  // Runs the upload with the files received (each in the file store's temporary area, kept
  // only when `keep` is called) and answers. Called with a connection of its own.
  std::function<HttpResponse(storage::Database& db, const service::Actor& actor, int64_t round_id,
                             const std::string& agency, const std::string& kpi,
                             const std::vector<service::PendingFile>& files)>
      finish;
};

// POST .../rounds/{id}/agencies/{agency}/kpis/{kpi}/<kind>: multipart/form-data with the spec's
// file parts. In order, before a byte of the body is read: a declared length over
// roles × limits.max_file_bytes (413), the round id (404 when malformed), who asks (401/403; the
// agency's reporters only), the body's type (415). Then each part streams to the file store,
// at most limits.max_file_bytes (413 beyond); an unknown field, a field that is not a file, a
// file sent twice, a required file empty or missing, a name that is not UTF-8 is a 400 in Thai
// and English. Then `spec.finish` answers.
UploadStarter MakeDataUpload(storage::DatabasePool& pool, storage::FileStore& files,
                             const Clock& clock, const UploadLimits& limits, DataUploadSpec spec);

// Runs `work` with a connection, the caller authenticated and the path's {id} read (GET routes:
// no CSRF to check). Who asks is checked before the id, as on every other route: a stranger
// gets 401/403 whatever id is asked for.
using IdWork = std::function<HttpResponse(storage::Database&, const service::Actor&,
                                          HttpRequest&, int64_t id)>;
Handler WithPathId(storage::DatabasePool& pool, const Clock& clock, IdWork work);

// The JSON every kind of upload shares: id, round_id, agency, kpi, uploaded_by/at, replaced_by,
// current, unchanged, summary, submission_id, revision and its files ([{"role", "name",
// "media_type", "size", "sha256"}]). Each kind adds the links to its own rows.
nlohmann::json DataUploadJson(const service::DataUpload& upload, bool unchanged);

}  // namespace esar::web
