#pragma once

// Where a framework's KPIs computed from other agencies' results (domain/from_agencies.h) read
// the results of the other frameworks of the same fiscal year: their stored result rows.

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "domain/from_agencies.h"
#include "domain/model.h"
#include "storage/database.h"

namespace esar::service {

// The results of the KPIs with the keys that `framework`'s from_agencies rules read, for the
// fiscal year of `framework` and `round`, from the newest stored result (any stage: preliminary,
// final or published) of each other kind of agency's framework of that year; the agency's kind
// and parent as they were when that result was computed. Results of `framework`'s own kind are
// not read (its own scoring gives them). Empty, without a query, when the framework has no such
// rule. Fails only on a database error.
Result<std::vector<domain::PeerResult>> PeerResultsFor(storage::Database& db,
                                                       const domain::Framework& framework,
                                                       const std::string& agency_kind, int round);

}  // namespace esar::service
