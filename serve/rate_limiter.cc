#include "serve/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace gitdisc::serve {

TokenBucket::TokenBucket(double per_second, double burst, const Clock* clock)
    : per_second_(std::max(per_second, 0.0)),
      burst_(std::max(burst, 1.0)),
      clock_(clock),
      tokens_(burst_),
      last_(clock->Now()) {}

void TokenBucket::RefillLocked() {
  Clock::TimePoint now = clock_->Now();
  double seconds = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (seconds > 0) tokens_ = std::min(burst_, tokens_ + seconds * per_second_);
}

bool TokenBucket::TryTake() {
  std::lock_guard<std::mutex> l(mu_);
  RefillLocked();
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds TokenBucket::WaitForNext() {
  std::lock_guard<std::mutex> l(mu_);
  RefillLocked();
  if (tokens_ >= 1.0) return std::chrono::milliseconds(0);
  if (per_second_ <= 0) return std::chrono::hours(1);
  return std::chrono::milliseconds(
      static_cast<long long>(std::ceil((1.0 - tokens_) / per_second_ * 1000.0)));
}

void LogThrottle::Warn(DaemonLog* log, std::string_view msg, LogFields fields) {
  uint64_t held_back = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!bucket_.TryTake()) {
      ++suppressed_;
      return;
    }
    held_back = std::exchange(suppressed_, 0);
  }
  if (held_back > 0) fields.emplace_back("suppressed", std::to_string(held_back));
  log->Warn(msg, fields);
}

}  // namespace gitdisc::serve
