#pragma once

// Telling people what happened: each user's notification list in the browser, and e-mail through
// an outbox. A use case that causes an event (a report returned, results published) calls
// Notifier inside its own transaction, so the notification and the e-mail land together with the
// event or not at all; the worker of `esar serve` (mail/worker.h) later sends the outbox through
// SMTP. Nothing here talks to the network.
//
// Also: each user's e-mail address, language and the mail they turned off (Contacts), the list a
// user reads (Inbox), and the outbox as the central office sees it and the worker drains it
// (Outbox).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/text.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

// Topics of e-mail a user may turn off (Contacts::SetPreferences). A message of a topic still
// shows in the user's notification list when it has one; only its e-mail is left out. A topic
// is any short name: a new kind of message may bring its own without a schema change.
inline constexpr const char* kTopicReminders = "reminders";  // deadline reminders
inline constexpr const char* kTopicDigest = "digest";        // the evaluators' daily digest
inline constexpr const char* kTopicAnnouncements = "announcements";  // the office's announcements

// One message to one user, in Thai and English; the user's language picks the e-mail's.
struct Message {
  // What happened, as a dotted name ("report.returned"): shown on the outbox page and in the
  // API, never parsed. 1–64 characters.
  std::string kind;
  LocalizedText subject;  // one line (line breaks are turned into spaces)
  // Plain text; paragraphs separated by a blank line. The e-mail adds the link below it and
  // makes its HTML part from it, so the body itself carries no markup and no address.
  LocalizedText body;
  // The page concerned as a path of esar's own ("/agency/results?round=3"), made absolute with
  // --public-url when the e-mail is written out; "" for none. Must start with "/".
  std::string link;
  // "" for a message the user always gets; else a topic (kTopicReminders, ...) whose e-mail the
  // user may have turned off.
  std::string topic;
  // "" for none. Else a name of this message that makes it land once per user however many
  // times it is written (several servers running the reminder schedule, a run repeated): the
  // user id is added to it, so one key serves every recipient of one event.
  std::string dedup_key;
  bool in_list = true;  // shown in the user's notification list
  bool by_mail = true;  // e-mailed when the user has an address (and the topic is on)
};

// What Notifier did for one recipient.
struct Delivery {
  bool listed = false;  // a notification was added to the user's list
  bool queued = false;  // an e-mail was put in the outbox
  int64_t outbox_id = 0;
};

// Puts messages in users' notification lists and e-mails in the outbox. Every call must run
// inside the caller's transaction (Database::Transaction), the one that makes the change the
// message tells of: the message is then kept exactly when the change is. Not thread-safe (one
// per connection), cheap to make.
class Notifier {
 public:
  Notifier(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Tells user `user_id`: a notification in their list (when message.in_list) and an e-mail in
  // the outbox in their language (when message.by_mail, the user has an address and has not
  // turned the message's topic off). An inactive or unknown user gets nothing (Ok, nothing
  // done). With a dedup_key already used for this user, nothing is written again. Fails
  // (kInvalidInput) on a message without kind or subject or with a link not starting with "/",
  // or when the database fails: the caller's transaction should then roll back.
  Result<Delivery> Notify(int64_t user_id, const Message& message);

  // Notify for each (user, message) of `recipients`, in that order, with a few statements
  // whatever their number: the users' contacts and opt-outs read in batches and the
  // notifications and e-mails written with BulkInsert (COPY on PostgreSQL). What lands is what
  // Notify would write for each in turn (inactive or unknown users get nothing, no address or a
  // topic turned off no e-mail); messages with a dedup_key are written a few hundred a statement
  // with Notify's ON CONFLICT (nothing again for a user told already). Returns how many
  // recipients were told (listed or mailed). Fails like Notify (a bad message: nothing is
  // written).
  Result<int> NotifyEach(const std::vector<std::pair<int64_t, Message>>& recipients);

  // Notify for every active user of `agency` whose role is one of `roles`. Returns how many
  // users were told (listed or mailed).
  Result<int> NotifyAgency(const std::string& agency, std::initializer_list<Role> roles,
                           const Message& message);

  // Notify for every active user with `role` (evaluators, admins). Returns how many were told.
  Result<int> NotifyRole(Role role, const Message& message);

  // An e-mail to `address` in `language` for user `user_id` without a notification (a password
  // reset link, which the list must not show to whoever reads it), whatever the topics. The
  // address is checked (IsValidEmail). Returns the outbox row's id.
  Result<int64_t> MailOnly(int64_t user_id, const std::string& address, Lang language,
                           const Message& message);

 private:
  // The outbox row for `user_id`; `dedup` is the full key or "" (NULL).
  Result<int64_t> Enqueue(int64_t user_id, const std::string& address, Lang language,
                          const Message& message, const std::string& dedup);
  storage::Database& db_;
  const Clock& clock_;
};

// True for an address esar will put in a mail envelope: 3–254 characters of printable ASCII
// without spaces, quotes, brackets or commas, one "@" with text on both sides and a dot in the
// domain. Deliberately narrower than RFC 5321 (no quoted local parts): it keeps header and
// command injection out and fits every address a government office gives its staff.
bool IsValidEmail(const std::string& address);

// A user's contact details. Users without any have no address and Thai.
struct Contact {
  int64_t user_id = 0;
  std::string email;  // "" = no e-mail is sent to the user
  Lang language = Lang::kThai;
  std::vector<std::string> mail_off;  // topics whose e-mail the user turned off, sorted
  bool MailOn(const std::string& topic) const;
};

// "th" or "en".
const char* LangCode(Lang lang);
// "th" or "en" into a Lang; kInvalidInput (Thai and English) for anything else.
Result<Lang> ParseLangCode(const std::string& code);

// Users' e-mail addresses, languages and mail preferences. Every change is audited
// (entity contact/<user id>).
class Contacts {
 public:
  Contacts(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The contact of `user_id`: the user themself or an admin; kNotFound for an unknown user.
  Result<Contact> Get(const Actor& actor, int64_t user_id);
  // The contact of `user_id` as stored, with no permission check: for use cases that already
  // decided to tell the user something.
  Result<Contact> Load(int64_t user_id);

  // Sets a user's e-mail address ("" removes it) and language; admins only, audited. Refuses
  // (kInvalidInput) an address IsValidEmail rejects; kNotFound for an unknown user.
  Status SetAddress(const Actor& actor, int64_t user_id, const std::string& email, Lang language);

  // The actor's own language and which topics of e-mail they get (reminders, digest,
  // announcements; an unset `announcements` keeps that topic as it was): the logged-in user (not
  // the public, not a read-only token), audited. Other topics are left as they were.
  Status SetPreferences(const Actor& actor, Lang language, bool reminders, bool digest,
                        std::optional<bool> announcements = std::nullopt);

  // SetAddress inside the caller's transaction, without its permission check (the caller,
  // Directory::EditUser, checked that the actor is an admin and the address is valid). Audited as
  // SetAddress is; an address and language as they were already write nothing.
  Status WriteAddress(const Actor& actor, int64_t user_id, const std::string& email,
                      Lang language);

  // Writes the contact of a user just made by `actor` (Directory::CreateUser) and its audit
  // entry, inside the caller's transaction; no permission check (the caller made the user).
  // The address must already have passed IsValidEmail (or be "").
  Status Create(const Actor& actor, int64_t user_id, const std::string& email, Lang language);

 private:
  // Writes `after` (the row and its topics) and the audit entry, inside a transaction.
  Status Store(const Actor& actor, const Contact& before, const Contact& after,
               const std::string& action);
  storage::Database& db_;
  const Clock& clock_;
};

// One entry of a user's notification list.
struct NotificationItem {
  int64_t id = 0;
  std::string kind;
  LocalizedText subject;
  LocalizedText body;
  std::string link;
  int64_t created_at = 0;
  int64_t read_at = 0;  // 0: unread
};

struct NotificationPage {
  std::vector<NotificationItem> items;  // newest first
  int64_t total = 0;
  int64_t unread = 0;
};

// The actor's own notification list. Only logged-in users have one: the public gets
// kUnauthenticated, the system kPermissionDenied.
class Inbox {
 public:
  explicit Inbox(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The actor's notifications, newest first, `limit` (1–200) from `offset`, with the total and
  // unread counts.
  Result<NotificationPage> List(const Actor& actor, int64_t limit, int64_t offset);
  // How many of the actor's notifications are unread (one indexed count: every page shows it).
  Result<int64_t> Unread(const Actor& actor);
  // Marks notification `id` of the actor read (kNotFound for anyone else's), or every unread one
  // when `id` is 0. Reading twice keeps the first time. Returns how many were marked.
  Result<int64_t> MarkRead(const Actor& actor, int64_t id);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

enum class OutboxStatus { kWaiting, kSent, kFailed };
const char* OutboxStatusName(OutboxStatus status);  // "waiting", "sent", "failed"

// One e-mail of the outbox.
struct OutboxItem {
  int64_t id = 0;
  int64_t user_id = 0;  // 0: no user (the user was removed)
  std::string username;
  std::string address;
  Lang language = Lang::kThai;
  std::string kind;
  std::string subject;
  std::string body;
  std::string link;
  int64_t created_at = 0;
  OutboxStatus status = OutboxStatus::kWaiting;
  int attempts = 0;
  int64_t next_attempt_at = 0;
  int64_t sent_at = 0;     // 0 until sent
  std::string last_error;  // the relay's answer (or the connection's failure) to the last try
};

struct OutboxPage {
  std::vector<OutboxItem> items;  // newest first
  int64_t total = 0;              // matching the filter
  int64_t waiting = 0, sent = 0, failed = 0;  // the whole outbox
};

// How the worker retries: after the k-th failed try (k = 1, 2, ...) it waits
// first_retry_ms·2^(k-1), at most max_retry_ms, and gives up (failed) after max_attempts tries
// or at once when the relay refuses for good (a 5xx answer).
struct RetryPolicy {
  int64_t first_retry_ms = 60'000;
  int64_t max_retry_ms = 3'600'000;
  int max_attempts = 10;
  // When the next try is due after `attempts` failed tries at `now`.
  int64_t NextAttempt(int attempts, int64_t now) const;
};

// The outbox: what admins see and resend, and what the mail worker claims and settles.
class Outbox {
 public:
  Outbox(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The e-mails of the outbox, newest first, optionally only those of `status` ("" for all);
  // admins only.
  Result<OutboxPage> List(const Actor& actor, const std::string& status, int64_t limit,
                          int64_t offset);
  // Puts a sent or failed e-mail back in the queue to be sent again now (attempts from 0);
  // admins only, audited as "mail.resend". kNotFound for an unknown id; kConflict while it is
  // still waiting (it will be sent anyway).
  Status Resend(const Actor& actor, int64_t id);

  // For the worker: claims up to `max` waiting e-mails due by now for `owner` (a name unique to
  // the process) for `lease_ms`: nobody else claims them until the lease ends, so several
  // servers on one database never send one twice, and a server that died mid-send leaves its
  // e-mails to the others once the lease ends. Each claim is one conditional UPDATE, so two
  // servers racing for a row cannot both win. Oldest first.
  Result<std::vector<OutboxItem>> Claim(const std::string& owner, int64_t lease_ms, int max);
  // For the worker: e-mail `id`, claimed by `owner`, was accepted by the relay. False when the
  // claim was lost meanwhile (the lease ended and another took it): nothing changed.
  Result<bool> MarkSent(int64_t id, const std::string& owner);
  // For the worker: the relay did not take e-mail `id` (claimed by `owner`); `answer` is its
  // answer or the connection's failure. Tried again under `policy`, or failed for good when
  // `permanent` or the tries are used up. False when the claim was lost meanwhile.
  Result<bool> MarkFailed(int64_t id, const std::string& owner, const std::string& answer,
                          bool permanent, const RetryPolicy& policy);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace esar::service
