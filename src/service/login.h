#pragma once

// Logging in: the throttle, the password check and the session, in that order, with a database
// connection only for the bookkeeping before and after the check (never while the memory-hard
// hash runs, so that a flood of logins cannot take the pool from everyone else).
//
// The throttle counts attempts, not failures after the fact: an attempt is admitted (and
// counted) by one atomic statement before its password is checked, and uncounted only when it
// succeeds or is never checked. So N parallel guesses get at most the allowance checked, never
// "check, then count". It keys on two subjects:
//
//   - the account from one address ("pair"): the first kFreeFailuresPerPair attempts come
//     without waiting; from the last of them on, each failure makes the pair wait
//     kFirstDelayMs·2^k (k = failures - kFreeFailuresPerPair), at most kMaxPairDelayMs.
//     The right password clears it. The same account from another address, and sessions
//     already open, are never affected: a guesser cannot lock the owner out.
//   - the address, whatever the name (names that cannot exist too): kFreeFailuresPerAddress,
//     then delays as above up to kMaxAddressDelayMs, so one address cannot try many accounts.
//
// A subject forgets its failures after its memory passes without an attempt.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "security/password_hasher.h"
#include "service/directory.h"
#include "storage/database.h"
#include "storage/pool.h"

namespace esar::service {

class Logins {
 public:
  static constexpr int kFreeFailuresPerPair = 5;
  static constexpr int kFreeFailuresPerAddress = 20;
  static constexpr int64_t kFirstDelayMs = 1000;
  static constexpr int64_t kMaxPairDelayMs = 15LL * 60 * 1000;
  static constexpr int64_t kMaxAddressDelayMs = 60LL * 1000;
  static constexpr int64_t kPairMemoryMs = 24LL * 3600 * 1000;
  static constexpr int64_t kAddressMemoryMs = 3600LL * 1000;

  // `pool`, `clock` and `hasher` must outlive this object.
  Logins(storage::DatabasePool& pool, const Clock& clock, security::PasswordHasher& hasher)
      : pool_(pool), clock_(clock), hasher_(hasher) {}

  // Logs `username` in from `address` (the client's address, as the server resolved it).
  // Returns the new session, or:
  //   kUnauthenticated  for a wrong name or password alike (a name that cannot exist is refused
  //                     without hashing: nothing can be learnt from its timing);
  //   kTooManyRequests  when the pair or the address must wait;
  //   kUnavailable      when too many passwords are being checked at once.
  // For the last two, `*retry_after_s` (when given) says how many seconds to wait.
  Result<Session> Login(const std::string& username, const std::string& password,
                        const std::string& address, int64_t* retry_after_s = nullptr);

 private:
  storage::DatabasePool& pool_;
  const Clock& clock_;
  security::PasswordHasher& hasher_;
};

}  // namespace esar::service
