#include "service/password_reset.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

#include "security/crypto.h"
#include "service/actor.h"
#include "service/audit.h"
#include "service/mail_texts.h"
#include "service/notify.h"

namespace esar::service {
namespace {

Status UnknownLink() {
  return Status::InvalidInput("ลิงก์ตั้งรหัสผ่านใหม่ไม่ถูกต้อง โปรดขอลิงก์ใหม่",
                              "the password reset link is not valid: ask for a new one");
}
Status UsedLink() {
  return Status::InvalidInput("ลิงก์ตั้งรหัสผ่านใหม่นี้ถูกใช้ไปแล้ว โปรดขอลิงก์ใหม่",
                              "this password reset link was already used: ask for a new one");
}
Status ExpiredLink() {
  return Status::InvalidInput("ลิงก์ตั้งรหัสผ่านใหม่หมดอายุแล้ว (ใช้ได้ 1 ชั่วโมง) โปรดขอลิงก์ใหม่",
                              "this password reset link has expired (it works for one hour): "
                              "ask for a new one");
}

// A token as RandomToken makes it: 64 lowercase hex characters. Anything else is refused
// before the database is asked.
bool WellFormedToken(const std::string& token) {
  return token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Counts one request of `subject` in its current window and says whether it is within `limit`;
// when not, `*wait_ms` is how long until the window ends. One statement counts and reads, so
// parallel requests cannot all pass a check made before any was counted. Kept in the login
// throttle's table (under its own subject names), which Directory::Purge empties of idle rows.
Result<bool> CountRequest(storage::Database& db, const std::string& subject, int limit,
                          int64_t now, int64_t* wait_ms) {
  const int64_t window_start = now - PasswordResets::kWindowMs;
  auto rows = db.Query(
      "INSERT INTO login_throttle (subject, failures, blocked_until, last_at) VALUES (?, 1, 0, ?) "
      "ON CONFLICT (subject) DO UPDATE SET "
      "failures = CASE WHEN login_throttle.last_at <= CAST(? AS BIGINT) THEN 1 "
      "ELSE login_throttle.failures + 1 END, "
      "last_at = CASE WHEN login_throttle.last_at <= CAST(? AS BIGINT) THEN CAST(? AS BIGINT) "
      "ELSE login_throttle.last_at END "
      "RETURNING failures, last_at",
      {subject, now, window_start, window_start, now});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::Internal("password reset throttle: no row");
  const int64_t count = (*rows)[0].Int(0);
  const int64_t started = (*rows)[0].Int(1);
  if (count <= limit) return true;
  *wait_ms = std::max<int64_t>(1000, started + PasswordResets::kWindowMs - now);
  return false;
}

}  // namespace

Status PasswordResets::Request(const std::string& who, const std::string& client,
                               int64_t* retry_after_s) {
  std::string name = who;
  name.erase(0, name.find_first_not_of(" \t\r\n"));
  name.erase(name.find_last_not_of(" \t\r\n") + 1);
  if (name.empty() || name.size() > kMaxIdentifierBytes) {
    return Status::InvalidInput("โปรดกรอกชื่อผู้ใช้หรืออีเมล (ไม่เกิน 254 ตัวอักษร)",
                                "enter your username or e-mail address (at most 254 characters)");
  }
  const bool by_address = name.find('@') != std::string::npos;
  if (by_address) name = Lower(name);
  const int64_t now = clock_.NowMs();
  auto lease = pool_.Acquire();
  if (!lease) return lease.status();
  storage::Database& db = **lease;
  // Both limits count every request, for names that exist or not alike: a refusal tells nothing.
  for (const auto& [subject, limit] :
       {std::pair<std::string, int>{"reset-to:" + name, kMaxPerAccount},
        std::pair<std::string, int>{"reset-from:" + client, kMaxPerClient}}) {
    int64_t wait_ms = 0;
    auto within = CountRequest(db, subject, limit, now, &wait_ms);
    if (!within) return within.status();
    if (!*within) {
      const int64_t minutes = (wait_ms + 59'999) / 60'000;
      if (retry_after_s) *retry_after_s = (wait_ms + 999) / 1000;
      return Status::TooManyRequests(
          "ขอตั้งรหัสผ่านใหม่บ่อยเกินไป โปรดรอ " + std::to_string(minutes) + " นาทีแล้วลองใหม่",
          "too many password reset requests: wait " + std::to_string(minutes) +
              " minutes and try again");
    }
  }
  return db.Transaction([&]() -> Status {
    // Addresses are kept as the office typed them; they are ASCII (IsValidEmail), so lower()
    // compares them alike on both databases.
    auto users = db.Query(
        std::string("SELECT u.id, u.role, u.agency_code, u.username, c.email, c.language FROM "
                    "users u JOIN user_contacts c ON c.user_id = u.id WHERE u.active = 1 AND "
                    "c.email <> '' AND ") +
            (by_address ? "lower(c.email) = ?" : "u.username = ?") + " ORDER BY u.id",
        {name});
    if (!users) return users.status();
    for (const storage::Row& u : *users) {
      // No token yet: the worker mints it as it sends the e-mail (IssueLink), so that none
      // waits in the outbox in plain text.
      auto lang = ParseLangCode(u.Text(5));
      auto queued = Notifier(db, clock_).MailOnly(u.Int(0), u.Text(4),
                                                  lang ? *lang : Lang::kThai,
                                                  PasswordResetMessage());
      if (!queued) return queued.status();
      Status s;
      // Asked by whoever knew the name: the system acts, the entry names the client.
      s = AuditLog(db).Append(Actor::System(), now, "user.password_reset_request",
                              "user/" + std::to_string(u.Int(0)), "{}",
                              nlohmann::json{{"client", client}}.dump());
      if (!s.ok()) return s;
    }
    return Status::Ok();
  });
}

Status PasswordResets::SendLinkFor(storage::Database& db, const Clock& clock, const Actor& admin,
                                   int64_t user_id) {
  if (!admin.Is(Role::kAdmin) || admin.read_only) {
    return Denied(admin, "ส่งลิงก์ตั้งรหัสผ่านใหม่ให้ผู้ใช้", "send users a password reset link");
  }
  const int64_t now = clock.NowMs();
  return db.Transaction([&]() -> Status {
    auto users = db.Query(
        "SELECT u.username, u.active, c.email, c.language FROM users u LEFT JOIN user_contacts c "
        "ON c.user_id = u.id WHERE u.id = ?",
        {user_id});
    if (!users) return users.status();
    if (users->empty()) {
      return Status::NotFound("ไม่พบผู้ใช้รหัส " + std::to_string(user_id),
                              "no user " + std::to_string(user_id));
    }
    const storage::Row& u = (*users)[0];
    if (u.Int(1) != 1) {
      return Status::Conflict("บัญชีนี้ถูกปิดใช้อยู่ เปิดใช้บัญชีก่อนจึงส่งลิงก์ตั้งรหัสผ่านใหม่ได้",
                              "this account is disabled: enable it before sending a reset link");
    }
    if (u.IsNull(2) || u.Text(2).empty()) {
      return Status::InvalidInput(
          "ผู้ใช้นี้ไม่มีอีเมล โปรดใส่อีเมลแล้วบันทึกก่อนส่งลิงก์ตั้งรหัสผ่านใหม่",
          "this user has no e-mail address: enter one and save before sending a reset link",
          Location{"", "email", 0});
    }
    int64_t wait_ms = 0;
    auto within = CountRequest(db, "reset-to:" + u.Text(0), kMaxPerAccount, now, &wait_ms);
    if (!within) return within.status();
    if (!*within) {
      const int64_t minutes = (wait_ms + 59'999) / 60'000;
      return Status::TooManyRequests(
          "ส่งลิงก์ตั้งรหัสผ่านใหม่ให้ผู้ใช้นี้บ่อยเกินไป โปรดรอ " + std::to_string(minutes) + " นาที",
          "too many reset links for this user: wait " + std::to_string(minutes) + " minutes");
    }
    auto lang = ParseLangCode(u.Text(3));
    auto queued = Notifier(db, clock).MailOnly(user_id, u.Text(2), lang ? *lang : Lang::kThai,
                                               PasswordResetMessage());
    if (!queued) return queued.status();
    return AuditLog(db).Append(admin, now, "user.password_reset_request",
                               "user/" + std::to_string(user_id), "{}",
                               nlohmann::json{{"email", u.Text(2)}}.dump());
  });
}

Status PasswordResets::Check(const std::string& token) {
  if (!WellFormedToken(token)) return UnknownLink();
  auto lease = pool_.Acquire();
  if (!lease) return lease.status();
  auto rows = (*lease)->Query(
      "SELECT r.expires_at, r.used_at, u.active FROM password_resets r JOIN users u ON u.id = "
      "r.user_id WHERE r.token_hash = ?",
      {security::Sha256Hex(token)});
  if (!rows) return rows.status();
  if (rows->empty() || (*rows)[0].Int(2) != 1) return UnknownLink();
  if (!(*rows)[0].IsNull(1)) return UsedLink();
  if ((*rows)[0].Int(0) <= clock_.NowMs()) return ExpiredLink();
  return Status::Ok();
}

Status PasswordResets::Reset(const std::string& token, const std::string& new_password) {
  if (!WellFormedToken(token)) return UnknownLink();
  if (new_password.size() < 10) {
    return Status::InvalidInput("รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร",
                                "a password needs at least 10 characters");
  }
  // Checked first, so that a dead link costs no hash; checked again when it is spent.
  Status live = Check(token);
  if (!live.ok()) return live;
  // No connection is held while the memory-hard hash runs.
  auto hash = hasher_.Hash(new_password);
  if (!hash) return hash.status();
  auto lease = pool_.Acquire();
  if (!lease) return lease.status();
  storage::Database& db = **lease;
  const int64_t now = clock_.NowMs();
  const std::string token_hash = security::Sha256Hex(token);
  return db.Transaction([&]() -> Status {
    // Spent by one conditional UPDATE: of two uses at once, one finds it unspent.
    auto spent = db.Query(
        "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND "
        "expires_at > ? RETURNING user_id",
        {now, token_hash, now});
    if (!spent) return spent.status();
    if (spent->empty()) {
      auto row = db.Query("SELECT used_at FROM password_resets WHERE token_hash = ?", {token_hash});
      if (!row) return row.status();
      if (row->empty()) return UnknownLink();
      return (*row)[0].IsNull(0) ? ExpiredLink() : UsedLink();
    }
    const int64_t user_id = (*spent)[0].Int(0);
    auto user = db.Query("SELECT role, agency_code, username FROM users WHERE id = ? AND active = 1",
                         {user_id});
    if (!user) return user.status();
    if (user->empty()) return UnknownLink();  // rolled back: the token stays as it was
    auto role = ParseRole((*user)[0].Text(0));
    Actor actor{user_id, role ? *role : Role::kReporter,
                (*user)[0].IsNull(1) ? std::string() : (*user)[0].Text(1), (*user)[0].Text(2)};
    Status s = db.Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*hash, user_id});
    if (!s.ok()) return s;
    // Whatever the old password let in is shut: every session, every API token, every other
    // link of this user.
    s = db.Execute("DELETE FROM sessions WHERE user_id = ?", {user_id});
    if (!s.ok()) return s;
    s = db.Execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                   {now, user_id});
    if (!s.ok()) return s;
    s = db.Execute("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
                   {now, user_id});
    if (!s.ok()) return s;
    return AuditLog(db).Append(actor, now, "user.password_reset",
                               "user/" + std::to_string(user_id), "{}", "{}");
  });
}

Result<std::string> PasswordResets::IssueLink(storage::Database& db, const Clock& clock,
                                              const OutboxItem& mail, const std::string& owner) {
  const std::string token = security::RandomToken();
  const int64_t now = clock.NowMs();
  // One statement checks the lease and stores the hash: a worker whose lease ended (another
  // server took the e-mail) mints nothing.
  auto minted = db.Query(
      "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) SELECT ?, "
      "o.user_id, ?, ? FROM outbox o JOIN users u ON u.id = o.user_id WHERE o.id = ? AND "
      "o.kind = ? AND o.status = 'waiting' AND o.lease_owner = ? RETURNING user_id",
      {security::Sha256Hex(token), now, now + kTokenLifetimeMs, mail.id,
       std::string(kPasswordResetKind), owner});
  if (!minted) return minted.status();
  if (minted->empty()) return std::string();
  return ResetLink(token);
}

}  // namespace esar::service
