#include "service/login.h"

#include <algorithm>

namespace esar::service {
namespace {

Status WrongLogin() {
  return Status::Unauthenticated("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง", "wrong username or password");
}

// One throttled subject's rule.
struct Rule {
  int free_failures;
  int64_t max_delay_ms;
  int64_t memory_ms;
};

constexpr Rule kPairRule = {Logins::kFreeFailuresPerPair, Logins::kMaxPairDelayMs,
                            Logins::kPairMemoryMs};
constexpr Rule kAddressRule = {Logins::kFreeFailuresPerAddress, Logins::kMaxAddressDelayMs,
                               Logins::kAddressMemoryMs};

// The smallest n with kFirstDelayMs·2^n >= max_delay_ms: from there on the wait is the cap.
int64_t CapShift(int64_t max_delay_ms) {
  int64_t n = 0;
  while ((Logins::kFirstDelayMs << n) < max_delay_ms) ++n;
  return n;
}

struct Admission {
  bool admitted = false;
  int64_t blocked_until = 0;  // when refused: until when
};

// Admits one attempt for `subject` and counts it, or refuses it while the subject waits. One
// atomic statement decides and counts, so parallel attempts cannot all pass a check made before
// any of them was counted.
Result<Admission> Admit(storage::Database& db, const std::string& subject, const Rule& rule,
                        int64_t now) {
  // A subject quiet for its memory starts afresh; a new one starts at zero.
  Status fresh = db.Execute(
      "INSERT INTO login_throttle (subject, failures, blocked_until, last_at) VALUES (?, 0, 0, ?) "
      "ON CONFLICT (subject) DO UPDATE SET failures = 0, blocked_until = 0 "
      "WHERE login_throttle.last_at < CAST(? AS BIGINT) "
      "AND login_throttle.blocked_until <= CAST(? AS BIGINT)",
      {subject, now, now - rule.memory_ms, now});
  if (!fresh.ok()) return fresh;
  // The n-th failure beyond the free ones makes the subject wait first_delay·2^(n-1), capped:
  // failures + 1 is this attempt's number.
  const int64_t free = rule.free_failures;
  auto admitted = db.Query(
      "UPDATE login_throttle SET failures = failures + 1, "
      "blocked_until = CASE WHEN failures + 1 < CAST(? AS BIGINT) THEN CAST(0 AS BIGINT) "
      "WHEN failures + 1 - CAST(? AS BIGINT) >= CAST(? AS BIGINT) THEN CAST(? AS BIGINT) "
      "ELSE CAST(? AS BIGINT) + (CAST(? AS BIGINT) << CAST(failures + 1 - ? AS INTEGER)) END, "
      "last_at = CAST(? AS BIGINT) "
      "WHERE subject = ? AND blocked_until <= CAST(? AS BIGINT) RETURNING failures",
      {free, free, CapShift(rule.max_delay_ms), now + rule.max_delay_ms, now,
       Logins::kFirstDelayMs, free, now, subject, now});
  if (!admitted) return admitted.status();
  if (!admitted->empty()) return Admission{true, 0};
  auto waiting =
      db.Query("SELECT blocked_until FROM login_throttle WHERE subject = ?", {subject});
  if (!waiting) return waiting.status();
  return Admission{false, waiting->empty() ? now : (*waiting)[0].Int(0)};
}

// Takes back an admitted attempt that turned out not to be a failure (it succeeded, or was never
// checked); a wait it started ends with it unless earlier failures call for one anyway.
Status Uncount(storage::Database& db, const std::string& subject, const Rule& rule) {
  return db.Execute(
      "UPDATE login_throttle SET failures = failures - 1, blocked_until = CASE WHEN failures - 1 "
      ">= CAST(? AS BIGINT) THEN blocked_until ELSE CAST(0 AS BIGINT) END "
      "WHERE subject = ? AND failures > 0",
      {static_cast<int64_t>(rule.free_failures), subject});
}

Status Throttled(int64_t blocked_until, int64_t now, int64_t* retry_after_s) {
  const int64_t seconds = std::max<int64_t>(1, (blocked_until - now + 999) / 1000);
  if (retry_after_s) *retry_after_s = seconds;
  return Status::TooManyRequests(
      "เข้าสู่ระบบผิดหลายครั้งเกินไป โปรดรอ " + std::to_string(seconds) + " วินาทีแล้วลองใหม่",
      "too many failed logins: wait " + std::to_string(seconds) + " seconds and try again");
}

}  // namespace

Result<Session> Logins::Login(const std::string& username, const std::string& password,
                              const std::string& address, int64_t* retry_after_s) {
  const int64_t now = clock_.NowMs();
  const bool well_formed = IsValidUsername(username);
  const std::string by_address = "addr:" + address;
  // User names never hold '@', so the pair cannot be confused with another.
  const std::string by_pair = "pair:" + username + "@" + address;
  int64_t user_id = 0;
  std::string hash;
  {
    auto lease = pool_.Acquire();
    if (!lease) return lease.status();
    storage::Database& db = **lease;
    if (well_formed) {
      auto pair = Admit(db, by_pair, kPairRule, now);
      if (!pair) return pair.status();
      if (!pair->admitted) return Throttled(pair->blocked_until, now, retry_after_s);
    }
    auto from = Admit(db, by_address, kAddressRule, now);
    if (!from) return from.status();
    if (!from->admitted) {
      if (well_formed) {
        Status s = Uncount(db, by_pair, kPairRule);
        if (!s.ok()) return s;
      }
      return Throttled(from->blocked_until, now, retry_after_s);
    }
    // A name that cannot exist is refused without hashing (its form is public, so its timing
    // tells nothing); it still counted against the address.
    if (!well_formed) return WrongLogin();
    auto rows = db.Query("SELECT id, password_hash, active FROM users WHERE username = ?",
                         {username});
    if (!rows) return rows.status();
    if (!rows->empty() && (*rows)[0].Int(2) == 1) {
      user_id = (*rows)[0].Int(0);
      hash = (*rows)[0].Text(1);
    }
  }
  // No connection is held while the hash runs. An unknown name is checked against a hash of the
  // same cost, so that timing does not tell names apart.
  auto matches = hasher_.Verify(user_id ? hash : hasher_.DummyHash(), password);
  auto lease = pool_.Acquire();
  if (!lease) return lease.status();
  storage::Database& db = **lease;
  if (!matches) {
    // Never checked: it does not count against anyone.
    Status s = Uncount(db, by_pair, kPairRule);
    if (s.ok()) s = Uncount(db, by_address, kAddressRule);
    if (!s.ok()) return s;
    if (retry_after_s) *retry_after_s = security::PasswordHasher::kRetryAfterSeconds;
    return matches.status();
  }
  if (!*matches || user_id == 0) return WrongLogin();
  // The owner proved the password from this address: the pair starts afresh, and the success
  // does not count against the address.
  Status s = db.Execute("DELETE FROM login_throttle WHERE subject = ?", {by_pair});
  if (s.ok()) s = Uncount(db, by_address, kAddressRule);
  if (!s.ok()) return s;
  return Directory(db, clock_).OpenSession(user_id);
}

}  // namespace esar::service
