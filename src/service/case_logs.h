#pragma once

// Case logs in the server (issue 11 §1): an agency uploads the case log of a KPI computed from
// case records (its cases file and, if any, its pauses file, each CSV or XLSX) for a round; esar
// judges every case by the KPI's case rule, keeps each case's verdict, and saves the counts as a
// new draft of the KPI's report (the variables the rule's `variables` name), so the result
// enters scoring like a typed value and goes through approval, submission and review as any
// report does. A log with any bad row is refused whole with every problem listed, and nothing
// is stored. Uploads are data uploads of kind "case_log" (data_files.h).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "formats/case_log.h"
#include "service/actor.h"
#include "service/data_files.h"
#include "storage/database.h"

namespace esar::service {

// What one case log may come to (esar serve's --max-case-log-cases; each file is also bounded by
// the upload size limit, --max-upload-mb).
struct CaseLogOptions {
  int64_t max_cases = 200'000;      // cases in one log (each verdict is a row kept)
  int64_t max_file_bytes = 20 << 20;  // one file (cases or pauses), CSV or XLSX
};

// The outcome of an upload: accepted (`upload` set) or refused for bad rows (`problems`).
struct CaseLogUploadOutcome {
  std::optional<DataUpload> upload;
  // True when the files were the same as those of the current upload and its draft still stood:
  // nothing new was stored, `upload` is that upload.
  bool unchanged = false;
  std::vector<formats::CaseLogProblem> problems;  // in file and line order, at most 1,000
  int64_t problem_count = 0;                      // all of them
};

// One case's verdict as kept.
struct CaseVerdictRow {
  int64_t seq = 0;  // 1 for the log's first case, in file order
  std::string case_id;
  std::string kind;
  std::string received;   // ISO date
  std::string completed;  // ISO date, "" while open
  // "on_time", "late", or why it is not counted (a reason code: "kind", "pending",
  // "backlog_round6", ...).
  std::string verdict;
  std::string class_id;  // "" without a class
  std::string standard;  // "3 months", "53 days"; "" without a class
  std::string due;       // ISO date, "" without a class
  int paused_days = 0;
  int late_days = 0;
};

// Which verdicts a list shows: "" every case, "counted", "on_time", "late", "not_counted", or
// one reason code.
struct CaseVerdictFilter {
  std::string verdict;
  int64_t limit = 50;  // 1 - 500
  int64_t offset = 0;
};

struct CaseVerdictPage {
  std::vector<CaseVerdictRow> items;
  int64_t total = 0;  // matching, over all pages
};

// The filter values CaseVerdictFilter::verdict takes besides "" (for pages and the API).
const std::vector<std::string>& CaseVerdictFilters();

class CaseLogs {
 public:
  CaseLogs(storage::Database& db, const Clock& clock, CaseLogOptions options = {})
      : db_(db), clock_(clock), options_(options) {}

  // Uploads the case log of `kpi` for `agency` in round `round_id`: `files` holds one "cases"
  // file and at most one "pauses" file (CSV, or XLSX recognised by content: the sheet named
  // "cases"/"pauses" or the first). Reporters of the agency only; the KPI must be computed from
  // case records and name its variables, and be reportable by the agency in the round (assigned,
  // not exempt, counted in this round: the framework's assignments and agency-specific settings
  // decide); the report must be new, a draft, approved or returned (kConflict when submitted or
  // accepted, as for any draft) and reporting open for the agency. A log with bad rows gives an
  // outcome with its problems (nothing kept, no file stored); one with too many cases is
  // kInvalidInput. Otherwise the files are kept, every verdict stored, and the counts saved as
  // a new draft revision (other values and the texts of the report kept), all in one
  // transaction; the outcome names the upload. Uploading the files of the current upload again
  // while its draft stands stores nothing (`unchanged`).
  Result<CaseLogUploadOutcome> Upload(const Actor& actor, int64_t round_id,
                                      const std::string& agency, const std::string& kpi,
                                      const std::vector<PendingFile>& files);

  // A page of upload `upload_id`'s verdicts matching `filter`, in file order; for those who may
  // see the upload (DataFiles::Get). kInvalidInput for an unknown filter or a bad page.
  Result<CaseVerdictPage> Verdicts(const Actor& actor, int64_t upload_id,
                                   const CaseVerdictFilter& filter);
  // Every verdict of the upload matching `verdict` (as the filter), in file order, one at a
  // time (a log's verdicts are never held whole): for downloads.
  Status EachVerdict(const Actor& actor, int64_t upload_id, const std::string& verdict,
                     const std::function<Status(const CaseVerdictRow&)>& each);

 private:
  storage::Database& db_;
  const Clock& clock_;
  CaseLogOptions options_;
};

}  // namespace esar::service
