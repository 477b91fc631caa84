#include "reconciler/work_queue.h"

#include <algorithm>
#include <vector>

namespace gitdisc::reconciler {

WorkQueue::WorkQueue(const Clock* clock, std::chrono::milliseconds recheck)
    : clock_(clock), recheck_(recheck) {}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (shut_down_) return;
  delayed_.erase(key);
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) queue_.push_back(key);
  cv_.notify_all();
}

void WorkQueue::AddAfter(const std::string& key, Clock::TimePoint::duration delay) {
  if (delay <= Clock::TimePoint::duration::zero()) return Add(key);
  std::lock_guard<std::mutex> l(mu_);
  if (shut_down_) return;
  // Already due sooner: queued now, or queued again when its worker is done.
  if (queued_.count(key) || dirty_.count(key)) return;
  auto due = clock_->Now() + delay;
  auto [it, inserted] = delayed_.emplace(key, due);
  if (!inserted) it->second = std::min(it->second, due);
  cv_.notify_all();
}

void WorkQueue::PromoteDueLocked() {
  if (delayed_.empty()) return;
  auto now = clock_->Now();
  std::vector<std::pair<Clock::TimePoint, std::string>> due;
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      due.emplace_back(it->second, it->first);
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(due.begin(), due.end());
  for (auto& [when, key] : due) {
    if (processing_.count(key)) {
      dirty_.insert(key);
    } else if (queued_.insert(key).second) {
      queue_.push_back(key);
    }
  }
}

std::optional<std::string> WorkQueue::TakeDueLocked() {
  PromoteDueLocked();
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (shut_down_) return std::nullopt;
    if (auto key = TakeDueLocked()) return key;
    auto wait = recheck_;
    if (!delayed_.empty()) {
      auto next = std::min_element(delayed_.begin(), delayed_.end(), [](auto& a, auto& b) {
                    return a.second < b.second;
                  })->second;
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_->Now());
      wait = std::clamp(until, std::chrono::milliseconds(1), recheck_);
    }
    cv_.wait_for(l, wait);
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard<std::mutex> l(mu_);
  if (shut_down_) return std::nullopt;
  return TakeDueLocked();
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  processing_.erase(key);
  if (dirty_.erase(key) && !shut_down_ && queued_.insert(key).second) queue_.push_back(key);
  cv_.notify_all();
}

void WorkQueue::Wake() {
  std::lock_guard<std::mutex> l(mu_);
  cv_.notify_all();
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> l(mu_);
  shut_down_ = true;
  queue_.clear();
  queued_.clear();
  dirty_.clear();
  delayed_.clear();
  cv_.notify_all();
}

bool WorkQueue::Idle() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.empty() && processing_.empty();
}

bool WorkQueue::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_until(l, deadline, [this] { return queue_.empty() && processing_.empty(); });
}

size_t WorkQueue::Queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

bool WorkQueue::Busy(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  return queued_.count(key) > 0 || processing_.count(key) > 0;
}

}  // namespace gitdisc::reconciler
