#include "reconciler/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace gitdisc::reconciler {
namespace {

// Gates tasks until the test opens it; counts how many run at once.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int running = 0, most = 0, ran = 0;
  void Task() {
    std::unique_lock<std::mutex> l(mu);
    most = std::max(most, ++running);
    cv.wait(l, [&] { return open; });
    --running;
    ++ran;
    cv.notify_all();
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu);
    open = true;
    cv.notify_all();
  }
  bool WaitRan(int n) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, std::chrono::seconds(30), [&] { return ran == n; });
  }
};

TEST(WorkerPool, RunsAtMostItsThreadsAtOnceAndEveryTaskOnce) {
  Gate g;
  WorkerPool pool(3, 100);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(pool.Submit([&] { g.Task(); }));
  g.Open();
  ASSERT_TRUE(g.WaitRan(40));
  EXPECT_LE(g.most, 3);
  EXPECT_EQ(pool.threads(), 3) << "one thread per slot, not one per task";
}

TEST(WorkerPool, AFullQueueRefusesMoreWork) {
  Gate g;
  WorkerPool pool(1, 2);
  ASSERT_TRUE(pool.Submit([&] { g.Task(); }));
  // The first task may not have been taken off the queue yet: up to three fit.
  int accepted = 1;
  for (int i = 0; i < 10; ++i) accepted += pool.Submit([&] { g.Task(); });
  EXPECT_LE(accepted, 3);
  EXPECT_GE(accepted, 2);
  g.Open();
  ASSERT_TRUE(g.WaitRan(accepted));
}

TEST(WorkerPool, ShutDownDropsQueuedTasksAndRefusesNewOnes) {
  Gate g;
  std::atomic<int> late{0};
  WorkerPool pool(1, 10);
  ASSERT_TRUE(pool.Submit([&] { g.Task(); }));
  while (true) {  // the first task is running
    std::lock_guard<std::mutex> l(g.mu);
    if (g.running == 1) break;
  }
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.Submit([&] { ++late; }));
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    g.Open();
  });
  pool.ShutDown();  // waits for the running task
  opener.join();
  EXPECT_EQ(g.ran, 1);
  EXPECT_EQ(late.load(), 0);
  EXPECT_FALSE(pool.Submit([] {}));
}

}  // namespace
}  // namespace gitdisc::reconciler
