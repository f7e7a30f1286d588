#pragma once

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "service/announcements.h"
#include "storage/file_store.h"
#include "storage/pool.h"
#include "web/api.h"
#include "web/http.h"

namespace esar::web {

// The evidence types accepted, decided by the file's content (libmagic), not its name.
bool IsAllowedEvidenceType(const std::string& media_type);

// The media type of the file at `path` from its content, or "" when it cannot be told.
std::string SniffMediaType(const std::string& path);

// POST /api/v1/submissions/{id}/evidence: multipart/form-data with one part "file" (and an
// optional "replaces" with the id of the evidence it replaces). Everything that can be checked
// from the headers is checked before the body is read (who asks, the submission's state, the
// declared size); the body then streams through the multipart parser into the file store,
// hashed as it goes, never whole in memory. PDF, DOCX, XLSX, PNG and JPEG only, by content;
// anything else, a file over `limits.max_file_bytes` (413), a file that would take the
// submission past its quota of files or bytes (409, checked before the body is read, while it
// streams and again under the submission's lock), or an office file that expands to more than
// `limits.max_unzipped_bytes` or absurdly (400) is refused with a clear reason and nothing stored.
UploadStarter MakeEvidenceUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                 const Clock& clock, Metrics& metrics, const UploadLimits& limits);

// POST /agency/rounds/{round}/kpis/{kpi}/evidence (the KPI form's upload before the first save):
// one "file" part as MakeEvidenceUpload takes it, with every check and limit, for the reporter's
// own agency's report of the KPI in the round, which the file's record makes as an empty draft
// when there is none yet (Reporting::AddEvidenceToKpi); no "replaces". Answers 201 as
// MakeEvidenceUpload, with the "submission_id".
UploadStarter MakeKpiEvidenceUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                    const Clock& clock, Metrics& metrics,
                                    const UploadLimits& limits);

// POST /api/v1/announcements/{id}/files: one file attached to an announcement by an admin, as
// MakeEvidenceUpload takes evidence (one "file" part, streamed, the same types by content, the
// same size and expansion limits, 413/415/400 alike); an announcement holds at most
// `limits.max_submission_files` files and `limits.max_submission_bytes` bytes (409 beyond).
// Answers 201 with AnnouncementFileJson.
UploadStarter MakeAnnouncementUpload(storage::DatabasePool& pool, storage::FileStore& files,
                                     const Clock& clock, Metrics& metrics,
                                     const UploadLimits& limits);

// An attached file as the API gives it (docs/openapi.json: AnnouncementFile), with the address
// of its bytes in "href".
nlohmann::json AnnouncementFileJson(const service::AnnouncementFile& file);

}  // namespace esar::web
