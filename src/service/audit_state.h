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
//   contact/<id>     a user's e-mail address, language and the mail turned off (by user id)
//   round/<id>       the round (its deadline) and its extensions
//   framework/<id>   the framework version (its document) and whether it is frozen
//   question/<id>    a question, its answer, whether it is published and its number (not its
//                    search words, derived from the texts)
//   announcement/<id> an announcement and its attached files' records
//   data_upload/<id> an agency's data upload for a KPI (a case log...), its files' records and
//                    each case's verdict
//   agencies         every agency
//   observations     every imported value
// So every change to those rows must be appended to the audit log under the entity it changes
// (or name it in AuditLog::Append's `also`); a change that is not shows as a difference.

#include <map>
#include <string>
#include <string_view>
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

// Rows encoded as StateOf encodes them, held in one buffer: what a writer of many rows gives
// StateOfParts, without a string per row (a result's 200,000 rows would be as many allocations).
class EncodedRows {
 public:
  // Room for `rows` rows of `bytes` bytes in all, for a writer that knows about how many.
  void Reserve(size_t rows, size_t bytes) {
    ends_.reserve(rows);
    bytes_.reserve(bytes);
  }
  // Appends one row of `count` values (each as EncodeValues encodes it), then `nulls` NULLs: a
  // part's columns the writer does not write (a result's explanation).
  void Add(const storage::Value* values, size_t count, size_t nulls = 0);
  // Appends `row` as it was read.
  void Add(const storage::Row& row);
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  // Row `i` (0 <= i < size()) as EncodeValues gives it.
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }

 private:
  std::string bytes_;         // every row's encoding, one after the other
  std::vector<size_t> ends_;  // where each row's encoding ends in bytes_
};

// The rows of each part of `entity` (see the list above), in order, as StateOf reads them from
// `db`, except the parts named in `skip`, left empty for a writer to fill with the rows it has
// just written (so that they are not read back). kInternal for an entity without a digest.
Result<std::vector<EncodedRows>> ReadParts(storage::Database& db, const std::string& entity,
                                           const std::vector<size_t>& skip = {});

// The state of `entity` whose parts hold `parts` (ReadParts' shape; each part's rows in any
// order): StateOf's digest when they are the rows stored. Reads nothing, so a writer may compute
// it on another thread while it stores the rows. For a result, part 1 is result_totals'
// agency_code, kind, parent, total, grade, scored_weight, status, inputs, explanation; part 2 is
// result_kpis' agency_code, kpi, parent_kpi, kpi_key, status, result, score, level, group_id,
// weight, weighted.
EntityState StateOfParts(const std::string& entity, const std::vector<EncodedRows>& parts);

// One row as StateOf encodes it.
std::string EncodeValues(const std::vector<storage::Value>& values);

// Every entity of the kinds above that exists in `db`.
Result<std::vector<std::string>> LiveEntities(storage::Database& db);

}  // namespace esar::service
