#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/history.h"
#include "domain/model.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

// Earlier fiscal years: results loaded for years evaluated outside esar (`esar import results`),
// esar's own published results found by KPI key, and the baselines a framework takes from them.
class History {
 public:
  History(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Loads earlier years' published results (formats::ParsePastResults); admins only. Each fiscal
  // year and round in `results` is replaced whole: rows of that year and round that a previous
  // import loaded and this one does not are removed, so importing a file again changes nothing
  // and importing a corrected file leaves only it. One transaction; one audit entry
  // ("results.import", entity "past_results") with the years, rounds and row counts before and
  // after. kInvalidInput naming the line for an agency esar does not know; nothing is stored then.
  Status ImportResults(const Actor& actor, const std::vector<domain::PastResult>& results);

  // Which earlier results to read (PastResults); every field left at its default matches all.
  struct PastFilter {
    int before_year = 0;  // fiscal years before this one
    int year = 0;         // this fiscal year only
    int round = 0;        // this round only (6 or 12)
    std::string agency;   // this agency only
    std::vector<std::string> agencies;  // these agencies only (with `agency`, when both are set)
  };

  // Every earlier result esar knows that `filter` matches: those loaded by ImportResults, and
  // those of esar's own published results of KPIs with a key (and the agencies' totals), each
  // with its source. Readable by anyone: they are published. A page reads only what it shows
  // (one agency, or one year and round): at thousands of agencies, all years would be costly.
  Result<std::vector<domain::PastResult>> PastResults(const PastFilter& filter);
  // PastResults of the years before `before_year` (0: every year), of `agency` only when set.
  Result<std::vector<domain::PastResult>> PastResults(int before_year = 0,
                                                      const std::string& agency = "") {
    return PastResults(PastFilter{before_year, 0, 0, agency, {}});
  }

  // The KPI keys with a result in fiscal year `year`, round `round`: imported by `esar import
  // results` or scored in a publication of esar's of that year and round, found in SQL
  // (DISTINCT), so that the framework editor does not read every row as PastResults would.
  Result<std::set<std::string>> KeysWithResults(int year, int round);

  // domain::FillBaselines over the earlier results the framework's references read: its
  // baselines taken from earlier years' results where `observations` has no value for them
  // (`kept`, when given, counts those it has: imported in their place).
  Result<size_t> FillBaselines(const domain::Framework& framework,
                               const std::vector<domain::Agency>& agencies,
                               std::vector<domain::Observation>& observations,
                               size_t* kept = nullptr);
  // The earlier results FillBaselines reads for `agencies`: none when the framework's
  // references read no earlier result. For a caller that fills the baselines elsewhere
  // (domain::FillBaselines, on another thread).
  Result<std::vector<domain::PastResult>> BaselineSources(
      const domain::Framework& framework, const std::vector<domain::Agency>& agencies);

 private:
  // The earlier results in esar's own published results (see PastResults).
  Result<std::vector<domain::PastResult>> Published(const PastFilter& filter);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
