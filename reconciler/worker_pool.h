// WorkerPool: at most `threads` threads running short tasks from a queue of
// at most `max_queued` — the controller's observers, so that a scan of N VMs
// uses a bounded number of threads however large N is (before, one
// std::thread per VM), and a burst of scans cannot queue without limit.
//
// Tasks must end by themselves in bounded time (observers end by their
// per-VM deadline); the pool never interrupts one. Threads start when work
// arrives and no thread is idle, up to `threads`.
//
// Thread-safety: safe from any thread. Locking: mu_ guards the queue and the
// thread list; no task runs while it is held.
#ifndef GITDISC_RECONCILER_WORKER_POOL_H_
#define GITDISC_RECONCILER_WORKER_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gitdisc::reconciler {

class WorkerPool {
 public:
  WorkerPool(int threads, size_t max_queued);
  ~WorkerPool();  // ShutDown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. False (and the task is dropped) when max_queued tasks
  // wait already or the pool is shut down.
  bool Submit(std::function<void()> task);

  // Drops the tasks not started, waits for the running ones, joins.
  void ShutDown();

  // Threads started so far (never more than `threads`).
  int threads() const;

 private:
  void Loop();

  const int max_threads_;
  const size_t max_queued_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool shut_down_ = false;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_WORKER_POOL_H_
