#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "domain/model.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

struct StoredFramework {
  int64_t id = 0;
  int fiscal_year = 0;
  std::string agency_kind;
  int version = 0;
  std::string document;  // the framework JSON as imported
  std::string diff;      // JSON Patch (RFC 6902) from the previous version; "" for the first
  bool frozen = false;
  domain::Framework framework;  // `document` parsed
};

struct RoundInfo {
  int64_t id = 0;
  int64_t framework_id = 0;
  int round = 12;
  int64_t deadline = 0;
};

// A framework version without its document: what a list of frameworks shows.
struct FrameworkSummary {
  int64_t id = 0;
  int fiscal_year = 0;
  std::string agency_kind;
  int version = 0;
  bool frozen = false;
  int64_t imported_at = 0;
};

// A round with the fiscal year and agency kind of its framework.
struct RoundSummary {
  RoundInfo round;
  int fiscal_year = 0;
  std::string agency_kind;
};

struct Extension {
  std::string agency;
  int64_t deadline = 0;
};

// The year's frameworks, reporting rounds, deadlines and baseline data.
class Cycle {
 public:
  Cycle(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Imports a framework (format esar-framework/1); admins only. Refused with the first error
  // when it does not parse or `esar check` finds errors in it. While the newest version for its
  // fiscal year and kind is not frozen, it is replaced; once a round has opened (frozen), the
  // import becomes a new version that keeps its difference from the last.
  Result<StoredFramework> ImportFramework(const Actor& actor, const std::string& json_text);

  Result<StoredFramework> Framework(int64_t id);
  // Every framework version, newest fiscal year first, then by kind and version (newest first).
  Result<std::vector<FrameworkSummary>> Frameworks();
  // The newest version for a fiscal year and kind.
  Result<StoredFramework> LatestFramework(int fiscal_year, const std::string& agency_kind);

  // Opens round 6 or 12 of a framework with its deadline (ms since epoch); admins only. Opening
  // a round freezes the framework. Opening it again changes the deadline.
  Result<RoundInfo> OpenRound(const Actor& actor, int64_t framework_id, int round,
                              int64_t deadline_ms);
  Result<RoundInfo> Round(int64_t round_id);
  // Every round, newest fiscal year first, then by kind and round.
  Result<std::vector<RoundSummary>> Rounds();
  // The extensions granted for a round, by agency code.
  Result<std::vector<Extension>> Extensions(int64_t round_id);

  // Gives one agency a later deadline for a round; admins only.
  Status ExtendDeadline(const Actor& actor, int64_t round_id, const std::string& agency,
                        int64_t deadline_ms);
  // The deadline that applies to `agency`: its extension, or the round's.
  Result<int64_t> DeadlineFor(int64_t round_id, const std::string& agency);

  // Stores baseline and other imported values (replacing ones with the same key); admins only.
  Status ImportObservations(const Actor& actor,
                            const std::vector<domain::Observation>& observations);
  // Every imported value.
  Result<std::vector<domain::Observation>> Observations();
  // The imported values of one agency.
  Result<std::vector<domain::Observation>> ObservationsOf(const std::string& agency);

 private:
  Result<StoredFramework> Load(const storage::Row& row);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
