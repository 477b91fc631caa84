#include "reconciler/worker_pool.h"

#include <algorithm>
#include <utility>

namespace gitdisc::reconciler {

WorkerPool::WorkerPool(int threads, size_t max_queued)
    : max_threads_(std::max(1, threads)), max_queued_(std::max<size_t>(1, max_queued)) {}

WorkerPool::~WorkerPool() { ShutDown(); }

bool WorkerPool::Submit(std::function<void()> task) {
  std::lock_guard<std::mutex> l(mu_);
  if (shut_down_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(task));
  if (idle_ < static_cast<int>(queue_.size()) &&
      static_cast<int>(threads_.size()) < max_threads_) {
    threads_.emplace_back([this] { Loop(); });
  } else {
    cv_.notify_one();
  }
  return true;
}

void WorkerPool::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(l, [this] { return shut_down_ || !queue_.empty(); });
    --idle_;
    if (shut_down_) return;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    task();
    l.lock();
  }
}

void WorkerPool::ShutDown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    shut_down_ = true;
    queue_.clear();
    threads.swap(threads_);
    cv_.notify_all();
  }
  for (auto& t : threads) t.join();
}

int WorkerPool::threads() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(threads_.size());
}

}  // namespace gitdisc::reconciler
