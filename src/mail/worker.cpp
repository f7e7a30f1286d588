#include "mail/worker.h"

#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "service/password_reset.h"

namespace esar::mail {

std::string WorkerName() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  const uint64_t nonce = (static_cast<uint64_t>(random()) << 32) ^ random();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + hex;
}

MailWorker::MailWorker(storage::DatabasePool& pool, const Clock& clock, MailWorkerOptions options,
                       std::unique_ptr<MailSender> sender)
    : pool_(pool),
      clock_(clock),
      options_(std::move(options)),
      sender_(std::move(sender)),
      owner_(WorkerName()),
      thread_([this] { Run(); }) {}

MailWorker::~MailWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void MailWorker::Log(const char* level, const std::string& event,
                     const service::OutboxItem* mail, const std::string& detail) {
  if (!options_.log && std::string(level) == "info") return;
  nlohmann::json line = {{"ts", clock_.NowMs()}, {"level", level}, {"event", event}};
  if (mail) {
    line["outbox_id"] = mail->id;
    line["kind"] = mail->kind;
    line["attempts"] = mail->attempts + 1;
  }
  if (!detail.empty()) line["detail"] = detail;
  std::cerr << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

void MailWorker::Run() {
  int64_t next_schedule = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (clock_.NowMs() >= next_schedule) {
      RunSchedule();
      next_schedule = clock_.NowMs() + options_.schedule_every_ms;
    }
    // Keep going while there is more due (a backlog after the relay comes back), but look at
    // `stopping_` between e-mails.
    int handled = sender_ ? SendDue() : 0;
    lock.lock();
    if (handled > 0 && !stopping_) continue;
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stopping_; });
  }
}

void MailWorker::RunSchedule() {
  auto lease = pool_.Acquire();
  if (!lease) {
    Log("error", "mail.schedule", nullptr, lease.status().message_en());
    return;
  }
  auto run = service::MailSchedule(**lease, clock_, options_.schedule).RunOnce();
  if (!run) {
    Log("error", "mail.schedule", nullptr, run.status().message_en());
  } else if (run->reminders + run->digests > 0) {
    Log("info", "mail.schedule", nullptr,
        std::to_string(run->reminders) + " reminded, " + std::to_string(run->digests) +
            " digests");
  }
}

int MailWorker::SendDue() {
  auto lease = pool_.Acquire();
  if (!lease) {
    Log("error", "mail.claim", nullptr, lease.status().message_en());
    return 0;
  }
  service::Outbox outbox(**lease, clock_);
  // One at a time: a claim is held only while its e-mail is being sent, so a server stopped
  // between e-mails leaves nothing claimed behind it.
  auto claimed = outbox.Claim(owner_, options_.lease_ms, 1);
  if (!claimed) {
    Log("error", "mail.claim", nullptr, claimed.status().message_en());
    return 0;
  }
  for (const service::OutboxItem& mail : *claimed) {
    service::OutboxItem to_send = mail;
    if (mail.kind == service::kPasswordResetKind) {
      // The reset token is made now and lives only in this message (and its hash in the
      // database): the outbox row never holds a usable link.
      auto link = service::PasswordResets::IssueLink(**lease, clock_, mail, owner_);
      if (!link) {
        Log("error", "mail.reset_link", &mail, link.status().message_en());
        auto failed = outbox.MarkFailed(mail.id, owner_, "reset link: " + link.status().message_en(),
                                        false, options_.retry);
        if (!failed) Log("error", "mail.settle", &mail, failed.status().message_en());
        continue;
      }
      if (link->empty()) {
        Log("warning", "mail.lease_lost", &mail, "the lease ended before the reset link was made");
        continue;
      }
      to_send.link = *link;
    }
    const std::string message = BuildMime(to_send, options_.mime, clock_.NowMs());
    const SendOutcome sent = sender_->Send(options_.mime.from, mail.address, message);
    Result<bool> settled =
        sent.accepted ? outbox.MarkSent(mail.id, owner_)
                      : outbox.MarkFailed(mail.id, owner_, sent.answer, sent.permanent,
                                          options_.retry);
    if (!settled) {
      Log("error", "mail.settle", &mail, settled.status().message_en());
    } else if (!*settled) {
      Log("warning", "mail.lease_lost", &mail, "the lease ended before the relay answered");
    }
    if (sent.accepted) {
      Log("info", "mail.sent", &mail, sent.answer);
    } else {
      Log("warning", sent.permanent ? "mail.refused" : "mail.retry", &mail, sent.answer);
    }
  }
  return static_cast<int>(claimed->size());
}

}  // namespace esar::mail
