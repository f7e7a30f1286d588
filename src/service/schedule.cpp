#include "service/schedule.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "common/thai.h"
#include "service/cycle.h"
#include "service/mail_texts.h"
#include "service/notify.h"
#include "service/reporting.h"

namespace esar::service {
namespace {
constexpr int64_t kDayMs = 24LL * 3600 * 1000;
}  // namespace

Result<ScheduleRun> MailSchedule::RunOnce() {
  ScheduleRun run;
  auto reminders = Reminders();
  if (!reminders) return reminders.status();
  run.reminders = *reminders;
  auto digests = Digests();
  if (!digests) return digests.status();
  run.digests = *digests;
  return run;
}

Result<int> MailSchedule::Reminders() {
  const int64_t now = clock_.NowMs();
  std::vector<int> days = settings_.reminder_days;
  std::sort(days.begin(), days.end());
  days.erase(std::remove_if(days.begin(), days.end(), [](int d) { return d < 1 || d > 60; }),
             days.end());
  if (days.empty()) return 0;
  Cycle cycle(db_, clock_);
  // Only rounds whose deadline (or an extension) may still lie ahead within the longest
  // reminder: the others need no framework parsed.
  auto rounds = db_.Query(
      "SELECT r.id FROM rounds r WHERE r.closed_at IS NULL AND (r.deadline > ? OR EXISTS "
      "(SELECT 1 FROM extensions e WHERE e.round_id = r.id AND e.deadline > ?)) ORDER BY r.id",
      {now, now});
  if (!rounds) return rounds.status();
  int told = 0;
  for (const storage::Row& r : *rounds) {
    const int64_t round_id = r.Int(0);
    auto status = cycle.StatusOf(round_id);
    if (!status) return status.status();
    if (status->state != RoundState::kOpen) continue;
    auto framework = cycle.Framework(status->round.framework_id);
    if (!framework) return framework.status();
    const domain::Framework& fw = framework->framework;
    // The agencies that have someone to tell.
    auto agencies = db_.Query(
        "SELECT DISTINCT u.agency_code FROM users u JOIN agencies a ON a.code = u.agency_code "
        "WHERE u.active = 1 AND u.role IN ('reporter', 'approver') AND (? = '' OR a.kind = ?) "
        "ORDER BY u.agency_code",
        {fw.agency_kind, fw.agency_kind});
    if (!agencies) return agencies.status();
    if (agencies->empty()) continue;
    std::map<std::string, int64_t> extension;
    auto extensions = cycle.Extensions(round_id);
    if (!extensions) return extensions.status();
    for (const Extension& e : *extensions) extension[e.agency] = e.deadline;
    const KpiDutyResolver resolver(fw, status->round.round);
    const LocalizedText title = RoundTitle(framework->fiscal_year, status->round.round);
    for (const storage::Row& a : *agencies) {
      const std::string agency = a.Text(0);
      const auto ext = extension.find(agency);
      const int64_t deadline = std::max(status->round.deadline,
                                        ext == extension.end() ? int64_t{0} : ext->second);
      if (now >= deadline) continue;
      // The smallest reminder whose time has come: a server started two days before the
      // deadline sends the 3-day reminder once, not the 7-day one too.
      int due = 0;
      for (int d : days) {
        if (now >= deadline - d * kDayMs) {
          due = d;
          break;
        }
      }
      if (due == 0) continue;
      std::set<std::string> owed;
      for (const KpiDuty& d : resolver.For(agency)) {
        if (d.Reportable()) owed.insert(d.kpi);
      }
      if (owed.empty()) continue;
      auto done = db_.Query(
          "SELECT kpi FROM submissions WHERE round_id = ? AND agency_code = ? AND status IN "
          "('submitted', 'accepted')",
          {round_id, agency});
      if (!done) return done.status();
      for (const storage::Row& s : *done) owed.erase(s.Text(0));
      if (owed.empty()) continue;
      // Whole days left, rounded up: "1 day left" until the deadline itself.
      const int days_left = static_cast<int>((deadline - now + kDayMs - 1) / kDayMs);
      Message m = DeadlineReminderMessage(title, deadline, days_left,
                                          static_cast<int64_t>(owed.size()), round_id);
      m.dedup_key = "reminder:r" + std::to_string(round_id) + ":" + agency + ":" +
                    std::to_string(deadline) + ":d" + std::to_string(due);
      int n = 0;
      Status s = db_.Transaction([&]() -> Status {
        auto sent = Notifier(db_, clock_).NotifyAgency(agency, {Role::kReporter, Role::kApprover}, m);
        if (!sent) return sent.status();
        n = *sent;
        return Status::Ok();
      });
      if (!s.ok()) return s;
      told += n;
    }
  }
  return told;
}

Result<int> MailSchedule::Digests() {
  const int64_t now = clock_.NowMs();
  const std::string time = IsoTimeInBangkok(now);  // "HH:MM"
  const int hour = (time[0] - '0') * 10 + (time[1] - '0');
  if (hour < settings_.digest_hour) return 0;
  auto waiting = db_.Query("SELECT COUNT(*) FROM submissions WHERE status = 'submitted'");
  if (!waiting) return waiting.status();
  auto appeals = db_.Query("SELECT COUNT(*) FROM appeals WHERE status = 'open'");
  if (!appeals) return appeals.status();
  const int64_t reviews = (*waiting)[0].Int(0), open = (*appeals)[0].Int(0);
  if (reviews + open == 0) return 0;
  Message m = ReviewDigestMessage(reviews, open);
  m.dedup_key = "digest:" + IsoDateInBangkok(now);
  int told = 0;
  Status s = db_.Transaction([&]() -> Status {
    auto sent = Notifier(db_, clock_).NotifyRole(Role::kEvaluator, m);
    if (!sent) return sent.status();
    told = *sent;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return told;
}

}  // namespace esar::service
