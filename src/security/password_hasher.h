#pragma once

// The memory-hard password hash as a bounded resource. One argon2id hash at the interactive
// strength takes 64 MiB and most of a core for about a tenth of a second: a flood of logins that
// each hashed at once would take the memory and the cores of everything else. Every hash and
// check of the server goes through one PasswordHasher, which runs at most `max_concurrent` at a
// time, lets at most `max_waiting` more wait briefly for a turn, and refuses the rest at once
// with kUnavailable, so that the caller answers 503 with Retry-After instead of queueing.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "security/crypto.h"

namespace esar::security {

struct HasherLimits {
  size_t max_concurrent = 2;  // hashes running at once (the server's default: one per core)
  size_t max_waiting = 2;     // callers that may wait for a turn; beyond them, refused at once
  int64_t max_wait_ms = 1000;  // how long a waiting caller waits before it is refused
};

// Thread-safe. Shared by every request of a process.
class PasswordHasher {
 public:
  // How long a refused caller is told to wait (Retry-After): about a few hashes' time.
  static constexpr int64_t kRetryAfterSeconds = 1;

  PasswordHasher(HashStrength strength, HasherLimits limits);
  virtual ~PasswordHasher() = default;
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // An argon2id hash of `password` at this hasher's strength, or kUnavailable when no turn came
  // within the wait (or too many already wait), or kInternal when the machine lacks the memory.
  Result<std::string> Hash(std::string_view password);

  // Whether `password` matches `hash`, or kUnavailable as for Hash.
  Result<bool> Verify(std::string_view hash, std::string_view password);

  // A hash at this hasher's strength that matches no password a user can type: checked for
  // unknown user names, so that they cost what a wrong password costs. Made once.
  const std::string& DummyHash();

  HashStrength strength() const { return strength_; }
  // Hashes and checks run so far (not counting the dummy hash's making): what tests watch.
  int64_t runs() const;

 protected:
  // The work itself, run while holding a turn. Tests override them to see what else holds
  // resources while a hash runs.
  virtual Result<std::string> RunHash(std::string_view password);
  virtual bool RunVerify(std::string_view hash, std::string_view password);

 private:
  // Takes a turn: false when none came (the caller answers kUnavailable).
  bool Acquire();
  void Release();
  Status Busy() const;

  const HashStrength strength_;
  const HasherLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  size_t running_ = 0;  // guarded by mutex_
  size_t waiting_ = 0;  // guarded by mutex_
  int64_t runs_ = 0;    // guarded by mutex_
  std::once_flag dummy_once_;
  std::string dummy_;  // written once under dummy_once_
};

}  // namespace esar::security
