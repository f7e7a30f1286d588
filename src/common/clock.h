#pragma once

#include <atomic>
#include <cstdint>

namespace esar {

// The time, behind an interface so that tests decide it (deadlines, sessions, throttling).
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowMs() const = 0;
};

// The real time.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

// A clock that stands still until told; thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_(now_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Set(int64_t now_ms) { now_.store(now_ms); }
  void Advance(int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace esar
