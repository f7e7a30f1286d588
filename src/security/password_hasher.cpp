#include "security/password_hasher.h"

#include <chrono>

namespace esar::security {

namespace {

// A hasher that can never run would refuse every login: at least one runs.
HasherLimits AtLeastOne(HasherLimits limits) {
  if (limits.max_concurrent == 0) limits.max_concurrent = 1;
  return limits;
}

}  // namespace

PasswordHasher::PasswordHasher(HashStrength strength, HasherLimits limits)
    : strength_(strength), limits_(AtLeastOne(limits)) {}

bool PasswordHasher::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (running_ < limits_.max_concurrent) {
    ++running_;
    return true;
  }
  if (waiting_ >= limits_.max_waiting) return false;
  ++waiting_;
  const bool got = turn_.wait_for(lock, std::chrono::milliseconds(limits_.max_wait_ms),
                                  [&] { return running_ < limits_.max_concurrent; });
  --waiting_;
  if (got) ++running_;
  return got;
}

void PasswordHasher::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
    ++runs_;
  }
  turn_.notify_one();
}

Status PasswordHasher::Busy() const {
  return Status::Unavailable("ระบบกำลังตรวจรหัสผ่านจำนวนมาก โปรดลองใหม่ในอีกสักครู่",
                             "too many password checks at once: try again in a moment");
}

Result<std::string> PasswordHasher::Hash(std::string_view password) {
  if (!Acquire()) return Busy();
  Result<std::string> out = RunHash(password);
  Release();
  return out;
}

Result<bool> PasswordHasher::Verify(std::string_view hash, std::string_view password) {
  if (!Acquire()) return Busy();
  const bool match = RunVerify(hash, password);
  Release();
  return match;
}

const std::string& PasswordHasher::DummyHash() {
  std::call_once(dummy_once_, [this] {
    // Random, so that no password matches it; made outside the turns (once per process).
    auto made = HashPassword(RandomToken(), strength_);
    dummy_ = made ? *made : std::string();
  });
  return dummy_;
}

int64_t PasswordHasher::runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return runs_;
}

Result<std::string> PasswordHasher::RunHash(std::string_view password) {
  return HashPassword(password, strength_);
}

bool PasswordHasher::RunVerify(std::string_view hash, std::string_view password) {
  return VerifyPassword(hash, password);
}

}  // namespace esar::security
