// TokenBucket: at most `burst` events at once and `per_second` on average —
// how the daemon bounds work an authenticated caller can ask for
// (/api/v1/plan) and how many lines one kind of refused request may write to
// the log (LogThrottle), whatever a client sends.
//
// Thread-safe (internal mutex). Time comes from the injected Clock.
#ifndef GITDISC_SERVE_RATE_LIMITER_H_
#define GITDISC_SERVE_RATE_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "base/clock.h"
#include "serve/daemon_log.h"

namespace gitdisc::serve {

class TokenBucket {
 public:
  // clock must outlive the bucket. The bucket starts full.
  TokenBucket(double per_second, double burst, const Clock* clock);

  // Takes one token and returns true, or returns false (nothing taken).
  bool TryTake();
  // How long until a token is there (0 when one is there now).
  std::chrono::milliseconds WaitForNext();

 private:
  void RefillLocked();

  std::mutex mu_;
  const double per_second_;
  const double burst_;
  const Clock* clock_;
  double tokens_;
  Clock::TimePoint last_;
};

// A log line that floods are made of ("webhook refused"): written at most
// `burst` times at once and `per_second` on average; the lines held back are
// counted and reported with the next line that gets through
// (field "suppressed"). Thread-safe.
class LogThrottle {
 public:
  LogThrottle(double per_second, double burst, const Clock* clock)
      : bucket_(per_second, burst, clock) {}

  void Warn(DaemonLog* log, std::string_view msg, LogFields fields);

 private:
  TokenBucket bucket_;
  std::mutex mu_;
  uint64_t suppressed_ = 0;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_RATE_LIMITER_H_
