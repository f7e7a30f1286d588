#pragma once

// The fingerprint a report PDF carries: the SHA-256 of one agency's rows in one publication
// (its total, grade and every KPI's result, score and level, as stored), and the look-up that
// /verify/{hash} answers from. Derived from the published rows each time it is asked, never
// stored: a row changed behind esar's back no longer matches the hash printed before.

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace esar::service {

// Where a digest comes from: a publication (a result at stage published) and one agency of it.
struct PublishedReport {
  int64_t result_id = 0;     // the publication
  int64_t rows_from = 0;     // the result whose rows it shares
  int64_t round_id = 0;      // its round (rounds.id)
  int64_t framework_id = 0;
  int round = 12;            // 6 or 12 months
  int64_t published_at = 0;  // the publication's time (ms)
  std::string agency;
  bool newest = true;  // false when a later publication of the same round replaced it
};

// The digest (64 lowercase hex digits) of `agency`'s rows in publication `result_id` (whose
// rows are those of result `rows_from`). kNotFound when the agency has no row there.
Result<std::string> PublishedRowsDigest(storage::Database& db, int64_t result_id,
                                        int64_t rows_from, const std::string& agency);

// Every agency of every publication by its digest: what a verification looks in. Reads every
// published row once (a few hundred thousand at 8,000 agencies): callers keep it until another
// publication, and check a hit again with PublishedRowsDigest (one agency's rows) so that a row
// changed behind esar's back is still seen.
Result<std::map<std::string, PublishedReport>> PublishedDigests(storage::Database& db);

}  // namespace esar::service
