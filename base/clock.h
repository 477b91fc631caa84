// Clock: the one way gitdisc code asks for the time, so that tests can drive
// time by hand (FakeClock) and reconcile loops stay deterministic under test.
// Implementations are safe for concurrent use.
#ifndef GITDISC_BASE_CLOCK_H_
#define GITDISC_BASE_CLOCK_H_

#include <chrono>
#include <mutex>

namespace gitdisc {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Monotonic time, for deadlines and backoff.
  virtual TimePoint Now() const = 0;
  // Wall-clock time, for records people read (ledger entries, events).
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  std::chrono::system_clock::time_point WallNow() const override {
    std::lock_guard<std::mutex> l(mu_);
    return std::chrono::system_clock::time_point(now_.time_since_epoch());
  }
  void Advance(std::chrono::steady_clock::duration d) {
    std::lock_guard<std::mutex> l(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_{std::chrono::hours(24 * 365 * 50)};
};

}  // namespace gitdisc

#endif  // GITDISC_BASE_CLOCK_H_
