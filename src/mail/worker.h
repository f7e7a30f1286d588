#pragma once

// The mail worker of `esar serve`: a thread that sends the outbox through SMTP and runs the
// reminder and digest schedule (service/schedule.h).
//
// Exactly once: each e-mail is claimed with a lease (service::Outbox::Claim) before it is
// handed to the relay and marked sent right after the relay accepts it, so several servers on
// one database never send one e-mail at the same time, and one that stops (SIGTERM) finishes the
// e-mail in hand. Only a crash between the relay's "250" and the mark (a few milliseconds) can
// send one twice: the lease then ends and another server sends it again, with the same
// Message-ID. While the relay is down, e-mail waits and is tried again with growing delays
// (service::RetryPolicy); a 5xx refusal fails it at once, with the relay's answer kept for the
// outbox page.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "mail/mime.h"
#include "mail/smtp.h"
#include "service/notify.h"
#include "service/schedule.h"
#include "storage/pool.h"

namespace esar::mail {

struct MailWorkerOptions {
  // The relay; "" sends nothing (e-mail waits in the outbox; the schedule still runs, so the
  // notification lists still get reminders).
  std::string smtp_url;
  MimeSettings mime;
  service::RetryPolicy retry;
  service::ScheduleSettings schedule;
  int64_t lease_ms = 5 * 60 * 1000;      // longer than one send can take (curl times out at 60 s)
  int64_t poll_ms = 1000;                // how often the outbox is looked at
  int64_t schedule_every_ms = 5 * 60 * 1000;  // how often reminders and digests are looked for
  bool log = true;  // one JSON line on standard error per e-mail sent or failed
};

class MailWorker {
 public:
  // Starts the thread at once. `pool`, `clock` and `sender` (null when smtp_url is "") must
  // outlive the worker.
  MailWorker(storage::DatabasePool& pool, const Clock& clock, MailWorkerOptions options,
             std::unique_ptr<MailSender> sender);
  // Stops: finishes the e-mail in hand, then joins the thread.
  ~MailWorker();

  MailWorker(const MailWorker&) = delete;
  MailWorker& operator=(const MailWorker&) = delete;

 private:
  void Run();
  // Claims and sends what is due; returns how many were handled (0: nothing was due).
  int SendDue();
  void RunSchedule();
  void Log(const char* level, const std::string& event, const service::OutboxItem* mail,
           const std::string& detail);

  storage::DatabasePool& pool_;
  const Clock& clock_;
  const MailWorkerOptions options_;
  std::unique_ptr<MailSender> sender_;
  const std::string owner_;  // this process's name in outbox.lease_owner
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: started once the rest exists
};

// A name for this process unique among the servers sharing a database: host, pid and 64 random
// bits (a pid is reused after a restart; the lease of a dead process must not look like ours).
std::string WorkerName();

}  // namespace esar::mail
