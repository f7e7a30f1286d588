#pragma once

// The commands that act on an esar database: imports, users, the audit chain. Each returns the
// process's exit code and prints its messages in `lang`.

#include <cstdint>
#include <string>
#include <vector>

#include "audit_key.h"
#include "common/status.h"
#include "common/text.h"
#include "domain/from_agencies.h"
#include "domain/history.h"
#include "service/cycle.h"

namespace esar::cli {

// The database URL: `flag` when given, else $ESAR_DB, else "esar.db" in the working folder.
std::string DatabaseUrl(const std::string& flag);

// The commands that change the database seal their audit entries with the key `audit` finds
// (they write unsealed ones only while the log has never been sealed: before the first start of
// esar serve, which creates the key).
int ImportFramework(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                    Lang lang);
int ImportAgencies(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                   Lang lang);
int ImportData(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
               Lang lang);

// `esar import results FILE`: earlier years' published results (formats::ParsePastResults),
// each year and round in the file replacing what an earlier import loaded for it.
int ImportResults(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                  Lang lang);

// `esar import questions FILE`: a cycle's published questions and answers (formats::ParseQaFile)
// as published answers with their numbers; loading the same file again adds nothing.
int ImportQuestions(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                    Lang lang);

// What `esar check --db` reads from a database: its agencies, its imported values and the
// earlier results (service::History::PastResults) of years before `fiscal_year`.
struct StoredInputs {
  std::vector<domain::Agency> agencies;
  std::vector<domain::Observation> observations;
  std::vector<domain::PastResult> past;
};
// Fails when the database cannot be opened (after printing why) or read.
Result<StoredInputs> ReadStoredInputs(const std::string& db_url, int fiscal_year, Lang lang);

// What a framework's KPIs computed from other agencies' results read from a database: the newest
// framework of each other agency kind of its fiscal year (for the cycle check across them) and
// those frameworks' stored results of `round` for the keys its rules read
// (service::PeerResultsFor). Fails when the database cannot be opened (after printing why) or
// read.
struct StoredPeers {
  std::vector<service::StoredFramework> frameworks;
  std::vector<domain::PeerResult> results;
};
Result<StoredPeers> ReadStoredPeers(const std::string& db_url, const domain::Framework& framework,
                                    int round, Lang lang);

// `esar export results|status|audit`: a table of service::Spreadsheets (a round's results at
// `stage` or later, its submission status, or the audit log from `from` to `to`, Bangkok dates)
// as CSV or XLSX written to `out` (through a temporary file beside it, renamed at the end: a
// failed export leaves nothing). As the system (an admin). Exit 0, or 2 saying why.
struct ExportRequest {
  std::string what;        // results, status or audit
  int64_t round_id = 0;    // results and status
  std::string stage = "published";
  std::string format = "xlsx";
  std::string from, to;    // audit
  std::string out;
};
int Export(const std::string& db_url, const ExportRequest& request, Lang lang);

// The password comes from $ESAR_PASSWORD or, when unset, the first line of standard input.
// With an `email` ("" for none), the user's "account created" e-mail waits in the outbox for the
// server's mail worker; `mail_language` is "th" or "en" (the language of what the user is sent).
int CreateUser(const std::string& db_url, const AuditKeyFlags& audit, const std::string& username,
               const std::string& display_name, const std::string& role, const std::string& agency,
               const std::string& email, const std::string& mail_language, Lang lang);

// Exit 0 when the audit chain is whole, its seals and its head match, the live state matches
// what it recorded and every evidence file its hash; 1 when not (saying what), 2 on other errors.
// `heads` are heads recorded elsewhere ("SEQ:HASH"). With `write_head`, the head file is not
// compared (it is missing or to be replaced) and, if all else is whole, set to the last entry.
int VerifyAudit(const std::string& db_url, const AuditKeyFlags& audit,
                const std::vector<std::string>& heads, bool write_head, Lang lang);

// Writes the database and the evidence files under `audit.data_dir` to `path` (esar-backup/2,
// sealed with the audit key when there is one), through a temporary file renamed at the end:
// a backup that fails (a damaged evidence file, named) leaves nothing under `path`.
int BackupTo(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
             Lang lang);
// Restores `path` into an empty database (migrated first) and `audit.data_dir`, after checking
// the whole file, and only if the restored audit log then verifies; exit 1 when the backup is
// damaged or altered or does not verify (nothing restored), 2 on other errors. The head of the
// restored chain is written to the data folder.
int RestoreFrom(const std::string& db_url, const AuditKeyFlags& audit, const std::string& path,
                Lang lang);

}  // namespace esar::cli
