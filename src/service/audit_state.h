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
//   agencies         every agency
//   observations     every imported value
// So every change to those rows must be appended to the audit log under the entity it changes
// (or name it in AuditLog::Append's `also`); a change that is not shows as a difference.

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

// Every entity of the kinds above that exists in `db`.
Result<std::vector<std::string>> LiveEntities(storage::Database& db);

}  // namespace esar::service
