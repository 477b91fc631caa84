#include "reconciler/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace gitdisc::reconciler {
namespace {

using std::chrono::seconds;

std::string Take(WorkQueue& q) {
  auto k = q.TryGet();
  return k ? *k : "<none>";
}

TEST(WorkQueue, AKeyIsQueuedOnceAndComesOutInOrder) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Queued(), 2u);
  EXPECT_EQ(Take(q), "a");
  EXPECT_EQ(Take(q), "b");
  EXPECT_EQ(Take(q), "<none>");
  EXPECT_FALSE(q.Idle());  // both are being worked on
  q.Done("a");
  q.Done("b");
  EXPECT_TRUE(q.Idle());
}

TEST(WorkQueue, AKeyAddedWhileWorkedOnComesBackOnceAfterDone) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("vm");
  ASSERT_EQ(Take(q), "vm");
  q.Add("vm");
  q.Add("vm");
  EXPECT_EQ(Take(q), "<none>") << "one worker per key";
  EXPECT_TRUE(q.Busy("vm"));
  q.Done("vm");
  EXPECT_EQ(Take(q), "vm");
  q.Done("vm");
  EXPECT_EQ(Take(q), "<none>");
  EXPECT_TRUE(q.Idle());
  EXPECT_FALSE(q.Busy("vm"));
}

TEST(WorkQueue, AddAfterWaitsForTheClockAndTheEarlierDueTimeWins) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("slow", seconds(60));
  q.AddAfter("fast", seconds(30));
  q.AddAfter("slow", seconds(10));  // earlier: wins
  q.AddAfter("fast", seconds(90));  // later: ignored
  EXPECT_EQ(Take(q), "<none>");
  EXPECT_TRUE(q.Idle()) << "delayed keys are not work yet";
  clock.Advance(seconds(10));
  EXPECT_EQ(Take(q), "slow");
  EXPECT_EQ(Take(q), "<none>");
  clock.Advance(seconds(20));
  EXPECT_EQ(Take(q), "fast");
}

TEST(WorkQueue, AddMakesADelayedKeyDueNow) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("vm", seconds(600));
  q.Add("vm");
  EXPECT_EQ(Take(q), "vm");
  q.Done("vm");
  clock.Advance(seconds(601));
  EXPECT_EQ(Take(q), "<none>") << "the delayed entry was replaced, not kept beside";
}

TEST(WorkQueue, ADelayedKeyDueWhileWorkedOnRunsAgainAfterDone) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("vm");
  ASSERT_EQ(Take(q), "vm");
  q.AddAfter("vm", seconds(5));  // a failed Reconcile asks for a retry
  clock.Advance(seconds(5));
  EXPECT_EQ(Take(q), "<none>");
  q.Done("vm");
  EXPECT_EQ(Take(q), "vm");
}

TEST(WorkQueue, GetBlocksUntilAKeyArrivesAndShutDownReleasesIt) {
  FakeClock clock;
  WorkQueue q(&clock, std::chrono::milliseconds(5));
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  q.Add("vm");
  worker.join();
  EXPECT_EQ(got, "vm");

  std::thread idle([&] { got = q.Get(); });
  q.ShutDown();
  idle.join();
  EXPECT_EQ(got, std::nullopt);
  q.Add("late");
  EXPECT_EQ(q.TryGet(), std::nullopt) << "nothing is handed out after ShutDown";
}

TEST(WorkQueue, GetNoticesADelayedKeyWhenTheClockMoves) {
  FakeClock clock;
  WorkQueue q(&clock, std::chrono::milliseconds(5));
  q.AddAfter("vm", seconds(30));
  std::optional<std::string> got;
  std::thread worker([&] { got = q.Get(); });
  clock.Advance(seconds(30));
  q.Wake();
  worker.join();
  EXPECT_EQ(got, "vm");
}

TEST(WorkQueue, WaitIdleReturnsOnceTheLastKeyIsDone) {
  FakeClock clock;
  WorkQueue q(&clock);
  q.Add("vm");
  ASSERT_EQ(Take(q), "vm");
  EXPECT_FALSE(q.WaitIdle(std::chrono::steady_clock::now()));
  std::thread worker([&] { q.Done("vm"); });
  EXPECT_TRUE(q.WaitIdle(std::chrono::steady_clock::now() + seconds(30)));
  worker.join();
}

}  // namespace
}  // namespace gitdisc::reconciler
