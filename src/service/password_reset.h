#pragma once

// Forgotten passwords (issue 13 §1): a link with a single-use token, valid one hour, sent to the
// address the central office gave the user; the reset page sets a new password with it.
//
// What an asker learns: nothing about who exists. Asking for a reset answers the same for a
// known user, an unknown name, an unknown address and a user without an address; the rate
// limits count every request alike, existing or not. The token is 256 random bits, stored only
// as its SHA-256 (a copy of the database lets nobody in); using it ends every session and
// revokes every API token of the user (whoever knew the old password is shut out) and spends
// every other link of that user.
//
// No usable token is ever at rest in plain text. A request puts in the outbox an e-mail whose
// link has no token ("/password/reset"); the mail worker makes the token only when it hands that
// e-mail to the relay (IssueLink), stores its hash, and keeps the token itself only in memory and
// in the message it sends. So neither the outbox (waiting or sent), nor the admins' outbox page,
// nor a backup holds a link that works. The hour of validity counts from that moment: a relay
// down for a day does not deliver dead links. The lease that makes each e-mail sent once
// (service::Outbox::Claim) also makes each token minted by one server: IssueLink mints only for
// the worker holding the e-mail's lease. A try that the relay refuses leaves a token nobody was
// told (its hash only, it expires within the hour); the next try mints another.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "security/password_hasher.h"
#include "service/actor.h"
#include "storage/database.h"
#include "storage/pool.h"

namespace esar::service {

struct OutboxItem;

// The kind of the reset e-mail in the outbox (Message::kind): the worker mints its token.
inline constexpr const char* kPasswordResetKind = "password.reset";

class PasswordResets {
 public:
  static constexpr int64_t kTokenLifetimeMs = 3600LL * 1000;
  // Requests counted in fixed windows of kWindowMs: per name or address asked about (so that
  // nobody's mailbox is flooded) and per client address (so that one client cannot walk
  // through many).
  static constexpr int64_t kWindowMs = 3600LL * 1000;
  static constexpr int kMaxPerAccount = 3;
  static constexpr int kMaxPerClient = 30;  // offices behind one NAT share an address
  static constexpr size_t kMaxIdentifierBytes = 254;

  // `pool`, `clock` and `hasher` must outlive this object.
  PasswordResets(storage::DatabasePool& pool, const Clock& clock,
                 security::PasswordHasher& hasher)
      : pool_(pool), clock_(clock), hasher_(hasher) {}

  // Someone at `client` (the client's address, as the server resolved it) asks for a reset of
  // the account named `who`: a username or an e-mail address (any case). For each active user
  // it names who has an address, the reset e-mail (its link without a token: IssueLink makes
  // that when it is sent) is put in the outbox in the user's language, audited
  // ("user.password_reset_request"), in one transaction.
  // Returns Ok whether or not any user matched; kInvalidInput (Thai and English) for a blank
  // `who` or one longer than kMaxIdentifierBytes; kTooManyRequests when `who` or `client` asked
  // too often this window (`*retry_after_s`, when given, says how long to wait).
  Status Request(const std::string& who, const std::string& client,
                 int64_t* retry_after_s = nullptr);

  // An admin's "send a password reset link" for user `user_id` (the admin's page of the user):
  // the e-mail Request would queue, to the user's address in their language (its token made
  // when it is sent, as for Request), audited ("user.password_reset_request" by the admin), in
  // one transaction on `db`. Counted with the requests naming the user's username
  // (kMaxPerAccount a window, kTooManyRequests beyond), so that neither route floods a
  // mailbox. Admins only (not a read-only token); kNotFound for an unknown id; kConflict for a
  // disabled user; kInvalidInput naming the field "email" for a user without an address.
  static Status SendLinkFor(storage::Database& db, const Clock& clock, const Actor& admin,
                            int64_t user_id);

  // Ok when `token` can still set a password (what the reset page checks before showing its
  // form); else kInvalidInput saying whether the link is unknown, used or expired.
  Status Check(const std::string& token);

  // Sets the password of the user of `token` to `new_password` (at least 10 characters) and
  // spends the token, once: of two uses at once exactly one succeeds. Ends every session and
  // revokes every API token of the user, spends the user's other links; audited
  // ("user.password_reset"). kInvalidInput for an unknown, used, expired or malformed token, a
  // user no longer active, or a short password (the token is then not spent); kUnavailable when
  // too many passwords are being hashed at once.
  Status Reset(const std::string& token, const std::string& new_password);

  // For the mail worker, as it hands reset e-mail `mail` (kind kPasswordResetKind, claimed by
  // `owner` through Outbox::Claim) to the relay: a new token for the e-mail's user, its hash
  // stored valid kTokenLifetimeMs from now, and the link to put in the message
  // ("/password/reset?token=..."); the token is nowhere else. "" (nothing stored) when `owner`
  // no longer holds the e-mail's lease or it is no longer waiting, or it has no user: the caller
  // then sends nothing. Database failures as they come.
  static Result<std::string> IssueLink(storage::Database& db, const Clock& clock,
                                       const OutboxItem& mail, const std::string& owner);

 private:
  storage::DatabasePool& pool_;
  const Clock& clock_;
  security::PasswordHasher& hasher_;
};

}  // namespace esar::service
