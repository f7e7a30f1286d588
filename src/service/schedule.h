#pragma once

// The messages nothing in a request causes, only the time: deadline reminders and the evaluators'
// daily digest. The mail worker of `esar serve` runs MailSchedule::RunOnce every few minutes
// against the server's clock; tests run it against a FakeClock. Each message carries a
// dedup_key (Message), so a run repeated, or run by several servers at once, tells each user once.

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/database.h"

namespace esar::service {

struct ScheduleSettings {
  // Reminders go this many days before an agency's deadline (its extension counted), largest
  // first or in any order; 1–60 each.
  std::vector<int> reminder_days = {7, 3, 1};
  // The digest goes once a day, on the first run at or after this hour in Bangkok (0–23).
  int digest_hour = 8;
};

// What one run wrote.
struct ScheduleRun {
  int reminders = 0;  // users told of a deadline
  int digests = 0;    // evaluators sent their digest
};

// Reminders and digests due at the clock's time.
class MailSchedule {
 public:
  MailSchedule(storage::Database& db, const Clock& clock, ScheduleSettings settings = {})
      : db_(db), clock_(clock), settings_(std::move(settings)) {}

  // Writes what is due now, each in its own transaction:
  // - for every open round and every agency of its kind with reporters or approvers: when now
  //   lies within d days before the agency's deadline (the later of the round's and its
  //   extension) for some d of reminder_days, and the agency has KPIs it reports in the round
  //   that are not submitted (none, draft, approved, returned), a reminder to its reporters and
  //   approvers, for the smallest such d, once per (round, agency, deadline, d): an extension
  //   granted later starts its reminders afresh; a KPI submitted meanwhile is not counted;
  // - at or after digest_hour in Bangkok, to every active evaluator with anything waiting
  //   (submissions to review, open appeals), the digest, once per Bangkok calendar day.
  // Fails on a database failure; what was written before it stays.
  Result<ScheduleRun> RunOnce();

 private:
  Result<int> Reminders();
  Result<int> Digests();

  storage::Database& db_;
  const Clock& clock_;
  ScheduleSettings settings_;
};

}  // namespace esar::service
