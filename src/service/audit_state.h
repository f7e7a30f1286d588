#pragma once

// The live state the audit log vouches for. Each audit entry records, for the entities its
// change touched, a digest (SHA-256) of their rows as the change left them; `esar audit verify`
// computes the same digests from the database as it stands and compares them with the newest
// the log holds, so that a row changed in place (a submitted value, a review, a published total)
// is found even though no audit entry was touched.
//
// The entities, and the rows each digest covers:
//   submission/<id>  the submission, its revisions (values, texts), its evidence records, its
//                    reviews (verified values, comments) and their notes on the evidence
//   result/<id>      the result (where its rows come from), its totals per agency with the values
//                    they were scored from, and its scores per agency x KPI (a publication's
//                    rows are its final result's, covered there)
//   appeal/<id>      the appeal and its decision
//   user/<id>        the account: name, password hash, role, agency, active
//   round/<id>       the round (its deadline) and its extensions
//   framework/<id>   the framework version (its document) and whether it is frozen
//   question/<id>    a question, its answer, whether it is published and its number (not its
//                    search words, derived from the texts)
//   announcement/<id> an announcement and its attached files' records
//   agencies         every agency
//   observations     every imported value
// So every change to those rows must be appended to the audit log under the entity it changes
// (or name it in AuditLog::Append's `also`); a change that is not shows as a difference.

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace esar::service {

// True when `entity` is one of the kinds above (with a numeric id where it takes one).
bool HasStateDigest(const std::string& entity);

struct EntityState {
  bool exists = false;  // some row of it is there
  std::string digest;   // the SHA-256 of its rows, as hex; rows in any order give the same
};

// The state of `entity` as `db` holds it now (inside the caller's transaction, if any). The
// digest is the same on SQLite and PostgreSQL for the same rows.
Result<EntityState> StateOf(storage::Database& db, const std::string& entity);

// StateOf, with the rows of some parts given instead of read: `given` maps a part's index (1 or
// more; part 0, the entity's own row, is always read) to its rows, each encoded by EncodeValues
// with the part's columns in order, in any order. For a writer that holds the many rows it has
// just written (a result's: part 1 is result_totals' agency_code, kind, parent, total, grade,
// scored_weight, status, inputs, explanation; part 2 is result_kpis' agency_code, kpi,
// parent_kpi, kpi_key, status, result, score, level, group_id, weight, weighted), so that they
// are not read back. The digest equals StateOf's when the rows are those stored.
Result<EntityState> StateOfWith(storage::Database& db, const std::string& entity,
                                std::map<size_t, std::vector<std::string>> given);

// One row as StateOf encodes it (for StateOfWith).
std::string EncodeValues(const std::vector<storage::Value>& values);

// Every entity of the kinds above that exists in `db`.
Result<std::vector<std::string>> LiveEntities(storage::Database& db);

}  // namespace esar::service
