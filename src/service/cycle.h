#pragma once

#include <cstdint>
#include <set>
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
  int64_t starts_at = 0;  // when agencies may start reporting; 0: from the round's opening
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

// Where a round is in its cycle: scheduled (set up, its start date not reached) → open → closed
// → preliminary → final → published. Only an explicit, audited reopening (Cycle::Reopen) goes
// back to open.
enum class RoundState { kScheduled, kOpen, kClosed, kPreliminary, kFinal, kPublished };
// "scheduled", "open", "closed", "preliminary", "final", "published".
const char* RoundStateName(RoundState state);

// One reopening of a round: who, when, why, and the deadline it gave.
struct Reopening {
  int64_t at = 0;
  int64_t by = 0;  // user id, 0 for the system
  std::string reason;
  int64_t deadline = 0;
  int64_t after_result = 0;  // results with an id up to this one came before the reopening
};

// A round with its state, derived from the stored facts (deadline, extensions, an early close,
// reopenings, the results computed since the last reopening).
struct RoundStatus {
  RoundInfo round;
  RoundState state = RoundState::kOpen;
  // When reporting closes (or closed): the early close if there was one, else the latest of the
  // round's deadline and its extensions.
  int64_t closes_at = 0;
  int64_t closed_early_at = 0;        // the early close (Cycle::CloseReporting), 0 when none
  int64_t result_id = 0;              // the newest result since the last reopening, 0 when none
  int64_t appeal_deadline = 0;        // of that result while it is preliminary
  std::vector<Reopening> reopenings;  // oldest first
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
  // The newest version of each framework of `fiscal_year` for an agency kind other than
  // `except_kind`, by kind: the frameworks whose results KPIs computed from other agencies'
  // results read (service/peer_results.h).
  Result<std::vector<StoredFramework>> OtherFrameworksOfYear(int fiscal_year,
                                                             const std::string& except_kind);

  // Opens round 6 or 12 of a framework with its deadline (ms since epoch, in the future) and the
  // day agencies may start reporting (`starts_at_ms`, before the deadline; 0: at once); admins
  // only, audited. Opening a round freezes the framework. Opening it again changes the dates,
  // only while the round is scheduled or open (a closed round opens again only through Reopen),
  // and the start only while it is still ahead (agencies already reporting are not shut out
  // again): kConflict otherwise. kInvalidInput for a deadline already past or a start not
  // before the deadline. Opening it again with the same dates changes nothing and is not
  // audited again.
  Result<RoundInfo> OpenRound(const Actor& actor, int64_t framework_id, int round,
                              int64_t deadline_ms, int64_t starts_at_ms = 0);
  Result<RoundInfo> Round(int64_t round_id);
  // The round with its state (see RoundStatus); kNotFound for an unknown round.
  Result<RoundStatus> StatusOf(int64_t round_id);
  // The round's reopenings, oldest first (StatusOf's, without the rest of its state); none for
  // an unknown round.
  Result<std::vector<Reopening>> Reopenings(int64_t round_id);
  // Every round, newest fiscal year first, then by kind and round.
  Result<std::vector<RoundSummary>> Rounds();
  // The extensions granted for a round, by agency code.
  Result<std::vector<Extension>> Extensions(int64_t round_id);

  // Gives one agency a later deadline for a round, or changes the one it has; admins only,
  // audited with the deadline before and after (the same deadline again changes nothing). The
  // deadline must lie after the round's and in the future (kInvalidInput); refused (kConflict) once
  // reporting was closed early or results were computed: then only Reopen opens the round again.
  Status ExtendDeadline(const Actor& actor, int64_t round_id, const std::string& agency,
                        int64_t deadline_ms);
  // Takes an agency's extension away (it has the round's deadline again); admins only, audited.
  // kNotFound when it has none; kConflict once results were computed.
  Status RemoveExtension(const Actor& actor, int64_t round_id, const std::string& agency);
  // The deadline that applies to `agency`: the later of its extension and the round's.
  Result<int64_t> DeadlineFor(int64_t round_id, const std::string& agency);

  // Closes reporting now, before the deadline (and any extension) passes; admins only, audited
  // with `reason` (may be empty). kConflict unless the round is open.
  Result<RoundStatus> CloseReporting(const Actor& actor, int64_t round_id,
                                     const std::string& reason);
  // Opens a closed round again, whatever results it has, until `deadline_ms` (in the future);
  // admins only, audited. Needs a reason (kInvalidInput without one); kConflict while the round is
  // open or appeals are open. Results computed before stay stored (the published ones stay
  // public) but no longer decide the round's state: the next results start afresh. The early
  // close no longer applies; extensions still do where they are later than the new deadline.
  Result<RoundStatus> Reopen(const Actor& actor, int64_t round_id, const std::string& reason,
                             int64_t deadline_ms);

  // Ok when `agency` may change its reports of the round now: the round has started, has no
  // results, was not closed early, and the agency's deadline has not passed. Otherwise kConflict
  // saying why, in Thai and English. Inside a transaction, call LockRound first.
  Status CheckReportingOpen(int64_t round_id, const std::string& agency);
  // Ok while evaluators may review the round's submissions: before any results (after that,
  // changes go through appeals or a reopening). kConflict otherwise.
  Status CheckReviewOpen(int64_t round_id);
  // Inside a transaction, serializes with changes of the round's state: `exclusive` for those
  // changes (close, reopen, results), shared for the reports that depend on the state.
  // PostgreSQL locks the round's row; SQLite's transactions already take the write lock.
  Status LockRound(int64_t round_id, bool exclusive);
  // Inside a transaction, before a change of the round's state: LockRound (exclusive), then the
  // round's status as it stands under that lock.
  Result<RoundStatus> LockForChange(int64_t round_id);

  // Stores baseline and other imported values (replacing ones with the same key); admins only.
  Status ImportObservations(const Actor& actor,
                            const std::vector<domain::Observation>& observations);
  // Every imported value, in a vector with room for `more` further observations that the caller
  // will append (a vector grown past its room moves every observation to one twice its size:
  // ~90 MB more at 340,000 observations).
  Result<std::vector<domain::Observation>> Observations(size_t more = 0);
  // The imported values of one agency.
  Result<std::vector<domain::Observation>> ObservationsOf(const std::string& agency);
  // The imported values of each of `agencies` (a page's few dozen), in one query; with
  // `only_kpis`, of those KPIs only.
  Result<std::vector<domain::Observation>> ObservationsOf(
      const std::vector<std::string>& agencies, const std::set<std::string>* only_kpis = nullptr);
  // ObservationsOf for thousands of agencies at a time (ScoreAndStore's slices): their
  // observations appended to `out` as they are read, each made from its row's text where the
  // database holds it (Database::ScanText). DataLoss when a value cannot be read.
  Status AppendObservationsOf(const std::vector<std::string>& agencies,
                              std::vector<domain::Observation>& out);

 private:
  Result<StoredFramework> Load(const storage::Row& row);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
