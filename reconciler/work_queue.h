// WorkQueue: the controller's queue of VM keys (DESIGN.md §7, STYLE.md "The
// reconciler"), in the manner of client-go's workqueue:
//   - a key is queued at most once: adding a queued key does nothing, so a
//     burst of events for one VM costs one Reconcile(key);
//   - a key is handed to one worker at a time: adding a key while a worker
//     has it marks it dirty, and Done() queues it again, so the change that
//     came in during the work is looked at afterwards (level-based);
//   - AddAfter() queues a key once a delay has passed (backoff); an earlier
//     due time wins over a later one, and Add() makes it due now.
// Keys come out in the order they became due.
//
// Due times are read from the Clock (so tests can drive them with a
// FakeClock); Get() waits in real time, at most `recheck` between looks at
// the clock, and Wake() makes it look at once.
//
// Thread-safe.
#ifndef GITDISC_RECONCILER_WORK_QUEUE_H_
#define GITDISC_RECONCILER_WORK_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/clock.h"

namespace gitdisc::reconciler {

class WorkQueue {
 public:
  explicit WorkQueue(const Clock* clock,
                     std::chrono::milliseconds recheck = std::chrono::milliseconds(500));

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Clock::TimePoint::duration delay);

  // The next due key, marked as being worked on; nullopt once ShutDown() was
  // called (keys still queued are dropped) or, for TryGet, when none is due.
  std::optional<std::string> Get();
  std::optional<std::string> TryGet();

  // The worker is finished with `key` (from Get); re-queues it if it was
  // added meanwhile.
  void Done(const std::string& key);

  // Makes waiting Get() calls look at the clock again (after a FakeClock moved).
  void Wake();
  void ShutDown();

  // Nothing queued and nothing being worked on (delayed keys not counted).
  bool Idle() const;
  // Blocks until Idle() or the deadline (real time); returns Idle().
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);

  size_t Queued() const;
  bool Busy(const std::string& key) const;  // queued or being worked on

 private:
  std::optional<std::string> TakeDueLocked();
  void PromoteDueLocked();

  const Clock* clock_;
  const std::chrono::milliseconds recheck_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;      // the keys in queue_
  std::set<std::string> processing_;  // handed out by Get, not Done yet
  std::set<std::string> dirty_;       // added while processing
  std::map<std::string, Clock::TimePoint> delayed_;
  bool shut_down_ = false;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_WORK_QUEUE_H_
