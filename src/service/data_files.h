#pragma once

// Data files an agency uploads for one KPI in one round, from which esar computes the KPI's
// variables rather than their being typed in (issue 11): a case log (cases and pauses files),
// and other kinds alike (a data catalog). One store for every kind: an upload is a row of
// data_uploads (migration 17) with its files (kept in the evidence file store by SHA-256) and
// what was computed from them; the kind's own rows (a case log's verdicts) hang off the upload's
// id. A new upload of a kind replaces the agency's last one for that KPI and round; both are
// kept. Every upload is audited (entity data_upload/<id>, audit_state.h).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/model.h"
#include "service/actor.h"
#include "service/cycle.h"
#include "storage/database.h"
#include "storage/file_store.h"

namespace esar::service {

// The kinds of upload (data_uploads.kind).
inline constexpr const char* kCaseLogKind = "case_log";
inline constexpr const char* kCatalogKind = "catalog";

// One file of an upload, kept in the file store.
struct DataFile {
  std::string role;        // which file of the kind it is: "cases", "pauses", "catalog", ...
  std::string name;        // the name it was uploaded under (cleaned)
  std::string media_type;  // "text/csv", the XLSX type, "application/json"
  int64_t size = 0;
  std::string sha256;
};

struct DataUpload {
  int64_t id = 0;
  int64_t round_id = 0;
  std::string agency;
  std::string kpi;
  std::string kind;  // "case_log", ...
  int64_t uploaded_by = 0;  // user id, 0 for the system
  int64_t uploaded_at = 0;
  std::optional<int64_t> replaced_by;  // a newer upload of the kind took its place
  std::string summary_json = "{}";     // what was computed from it (the kind's own shape)
  std::optional<int64_t> submission_id;  // the submission whose draft it saved, if any...
  int revision = 0;                      // ...and the revision it made (0 when none)
  std::vector<DataFile> files;           // by role
};

// A file received but not yet kept: its bytes are readable at `path` until `keep` stores them
// for good in the file store (FileWriter::Commit) and says where. Nothing is kept for a file
// that is refused.
struct PendingFile {
  std::string role;
  std::string name;
  std::string path;
  std::function<Result<storage::StoredFile>()> keep;
};

// Which kinds of upload that fill a KPI's variables have a current upload for an agency in a
// round. Before a kind's first upload its variables are typed (an agency whose case log or
// catalog is kept outside esar; the examples' data type them); after it, they are the upload's.
struct UploadedSources {
  bool case_log = false;
  bool catalog = false;
  // True when a variable of `source` is filled by a current upload (kFromAgencies always is:
  // scoring fills it).
  bool Fills(domain::VariableSource source) const;
};

// A file an upload keeps, with the media type esar read it as.
struct KeptFile {
  const PendingFile* pending = nullptr;
  std::string media_type;
};

// What an upload whose kind fills a KPI's variables (a case log, a data catalog) saves: the
// values it computed, merged into the KPI's report as a new draft revision, and the upload.
struct ComputedUpload {
  int64_t round_id = 0;
  int round = 12;  // 6 or 12, the round's number
  std::string agency;
  std::string kpi;
  std::string kind;
  std::string values_json = "{}";   // a JSON object: variable -> value, set over the report's
  std::string summary_json = "{}";  // what the upload records of itself
  std::vector<KeptFile> files;
};

// The store of uploads. Reads are for the agency's users, evaluators and admins.
class DataFiles {
 public:
  DataFiles(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Inside the caller's transaction, which holds the round's lock (Cycle::LockRound), so that
  // two uploads for one agency, KPI and round replace each other in turn: records `upload`
  // (round, agency, KPI, kind, summary, submission and revision; its id, time and uploader are
  // set here from `actor` and `now`) with `files`, marks the current upload of that kind as
  // replaced by it (kept), calls `rows` with the new id for the kind's own rows, then appends
  // "data_upload.add" to the audit log for data_upload/<id> (and the replaced one). Returns the
  // upload as stored.
  Result<DataUpload> RecordLocked(const Actor& actor, DataUpload upload,
                                  const std::vector<DataFile>& files, int64_t now,
                                  const std::function<Status(int64_t id)>& rows = nullptr);

  // The agency's current (not replaced) upload of `kind` for `kpi` in the round, or nullopt.
  Result<std::optional<DataUpload>> Current(const Actor& actor, int64_t round_id,
                                            const std::string& agency, const std::string& kpi,
                                            const std::string& kind);
  // Every upload of `kind` for `kpi` in the round by the agency, newest first (at most 200).
  Result<std::vector<DataUpload>> History(const Actor& actor, int64_t round_id,
                                          const std::string& agency, const std::string& kpi,
                                          const std::string& kind);
  // One upload with its files; kNotFound when there is none, Denied when the actor may not see
  // its agency's uploads.
  Result<DataUpload> Get(const Actor& actor, int64_t id);
  // One file of an upload (its record; the bytes are in the file store), as Get allows.
  Result<DataFile> File(const Actor& actor, int64_t id, const std::string& role);

  // Ok when `actor` may see the uploads of `agency`: its reporters and approvers, evaluators
  // and admins.
  static Status MaySee(const Actor& actor, const std::string& agency);

  // Which kinds filling `kpi`'s variables have a current upload for the agency in the round
  // (only the kinds the KPI uses are looked up). As Current allows.
  Result<UploadedSources> Uploaded(const Actor& actor, int64_t round_id,
                                   const std::string& agency, const domain::Kpi& kpi);

  // The shared steps of an upload that fills a KPI's variables, before its file is read: the
  // actor must be a reporter of `agency` (Denied otherwise, saying `what_th`/`what_en`), the
  // round and its framework must exist (kNotFound) and the KPI be reportable by the agency in
  // the round (CheckReport: assigned, not exempt, counted in this round). Returns the round and
  // its framework.
  Result<std::pair<RoundInfo, StoredFramework>> UploadTarget(const Actor& actor, int64_t round_id,
                                                             const std::string& agency,
                                                             const std::string& kpi,
                                                             const std::string& what_th,
                                                             const std::string& what_en);

  // The current upload of `kind` when its files, as (role, SHA-256) pairs, are `files` and the
  // draft it saved still stands (same revision, draft or approved): uploading them again would
  // change nothing. nullopt otherwise.
  Result<std::optional<DataUpload>> Unchanged(
      const Actor& actor, int64_t round_id, const std::string& agency, const std::string& kpi,
      const std::string& kind, std::vector<std::pair<std::string, std::string>> files);

  // Saves `upload` in one transaction, under the round's lock: reporting must be open for the
  // agency (kConflict otherwise); the KPI's current report (or an empty one) gets `values_json`'s
  // values set over its own, is checked (CheckReport against `framework`) and saved as a new
  // draft revision (kConflict when submitted or accepted); the files are kept
  // (PendingFile::keep), and the upload recorded (RecordLocked, with `rows` for the kind's own
  // rows). Nothing is kept when any step fails. Returns the upload as stored.
  Result<DataUpload> SaveComputed(const Actor& actor, const domain::Framework& framework,
                                  const ComputedUpload& upload,
                                  const std::function<Status(int64_t id)>& rows);

 private:
  // The uploads `where` selects (with `params`), with their files.
  Result<std::vector<DataUpload>> Load(const std::string& where,
                                       const std::vector<storage::Value>& params);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
