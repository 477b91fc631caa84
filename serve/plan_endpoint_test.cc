#include "serve/plan_endpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <thread>

#include "tests/support/fake_controller.h"

namespace gitdisc::serve {
namespace {

using ::testing::ElementsAre;

constexpr char kSha[] = "0123456789abcdef0123456789abcdef01234567";
constexpr char kCurrent[] = "4f2a9c1e7b3d5a6f8091a2b3c4d5e6f708192a3b";  // SampleFleetStatus

PlanEndpointOptions Options() {
  PlanEndpointOptions o;
  o.api_token = Secret("api-token", "/etc/gitdisc/api.token");
  o.read_token = Secret("read-token", "/etc/gitdisc/read.token");
  o.burst = 3;
  o.per_second = 0.1;
  return o;
}

class PlanEndpointTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  testing::FakeController controller_;
};

TEST_F(PlanEndpointTest, IsOffWithoutATokenAndNeedsOne) {
  PlanEndpoint off(PlanEndpointOptions{}, &controller_, &clock_);
  EXPECT_EQ(off.Handle("Bearer x", std::nullopt).status, 404);
  PlanEndpoint plan(Options(), &controller_, &clock_);
  EXPECT_EQ(plan.Handle("", std::nullopt).status, 401);
  EXPECT_EQ(plan.Handle("Bearer nope", std::nullopt).status, 401);
  EXPECT_EQ(plan.Handle("Basic read-token", std::nullopt).status, 401);
  EXPECT_TRUE(controller_.plan_requests().empty()) << "no work before authentication";
  EXPECT_EQ(plan.Handle("Bearer read-token", std::string(kSha)).status, 200);
  EXPECT_EQ(plan.Handle("Bearer api-token", std::string("main")).status, 200);
  EXPECT_EQ(plan.Handle("Bearer api-token", std::string("--upload-pack=x")).status, 400);
}

TEST_F(PlanEndpointTest, AnswersAreCachedPerResolvedCommitForTheTtl) {
  PlanEndpoint plan(Options(), &controller_, &clock_);
  auto first = plan.Handle("Bearer read-token", std::string(kSha));
  EXPECT_FALSE(first.cached);
  auto again = plan.Handle("Bearer read-token", std::string("0123456789ABCDEF0123456789ABCDEF01234567"));
  EXPECT_TRUE(again.cached);
  EXPECT_EQ(again.body, first.body);
  // The current revision ("" asked) is also its commit's entry.
  EXPECT_EQ(plan.Handle("Bearer read-token", std::nullopt).status, 200);
  EXPECT_TRUE(plan.Handle("Bearer read-token", std::string(kCurrent)).cached);
  EXPECT_THAT(controller_.plan_requests(), ElementsAre(kSha, ""));
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_FALSE(plan.Handle("Bearer read-token", std::string(kSha)).cached);
  EXPECT_EQ(controller_.plan_requests().size(), 3u);
}

TEST_F(PlanEndpointTest, NewPlansAreRateLimitedButCachedOnesAreNot) {
  PlanEndpoint plan(Options(), &controller_, &clock_);
  for (int i = 0; i < 3; ++i) {
    std::string rev = std::string(39, 'a') + std::to_string(i);
    EXPECT_EQ(plan.Handle("Bearer api-token", rev).status, 200);
  }
  auto limited = plan.Handle("Bearer api-token", std::string(39, 'a') + "9");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.retry_after_seconds, 10);
  EXPECT_TRUE(plan.Handle("Bearer api-token", std::string(39, 'a') + "0").cached);
  EXPECT_EQ(controller_.plan_requests().size(), 3u);
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_EQ(plan.Handle("Bearer api-token", std::string(39, 'a') + "9").status, 200);
}

TEST_F(PlanEndpointTest, TheCacheIsBounded) {
  PlanEndpointOptions o = Options();
  o.burst = 1000;
  o.cache_entries = 4;
  PlanEndpoint plan(o, &controller_, &clock_);
  for (int i = 0; i < 100; ++i) {
    char rev[41];
    std::snprintf(rev, sizeof rev, "%040x", i + 1);
    ASSERT_EQ(plan.Handle("Bearer api-token", std::string(rev)).status, 200);
  }
  char first[41];
  std::snprintf(first, sizeof first, "%040x", 1);
  EXPECT_FALSE(plan.Handle("Bearer api-token", std::string(first)).cached) << "evicted";
  char last[41];
  std::snprintf(last, sizeof last, "%040x", 100);
  EXPECT_TRUE(plan.Handle("Bearer api-token", std::string(last)).cached);
}

TEST_F(PlanEndpointTest, ErrorsMapToStatusesAndUnknownRevisionsAreCachedToo) {
  PlanEndpoint plan(Options(), &controller_, &clock_);
  std::string missing(40, '0');
  EXPECT_EQ(plan.Handle("Bearer api-token", missing).status, 404);
  EXPECT_EQ(plan.Handle("Bearer api-token", missing).status, 404);
  auto invalid = plan.Handle("Bearer api-token", std::string("badbadbadbadbadbadbadbadbadbadbadbadbad0"));
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.body["code"], "invalid");
  EXPECT_EQ(controller_.plan_requests().size(), 2u);
}

// A controller whose PlanAt waits until released.
class SlowPlans final : public reconciler::ControllerApi {
 public:
  reconciler::FleetStatus Status() const override { return {}; }
  void EnqueueAll(std::string_view) override {}
  void NotifySourceChanged(std::string_view) override {}
  bool Ready() const override { return true; }
  Result<nlohmann::json> PlanAt(const std::string& rev) override {
    std::unique_lock<std::mutex> l(mu_);
    ++running_;
    cv_.notify_all();
    cv_.wait(l, [&] { return released_; });
    return nlohmann::json{{"revision", rev}};
  }
  void WaitRunning() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return running_ > 0; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
  bool released_ = false;
};

TEST(PlanEndpointConcurrency, OnePlanIsComputedAtATime) {
  FakeClock clock;
  SlowPlans controller;
  PlanEndpoint plan(Options(), &controller, &clock);
  auto first = std::async(std::launch::async, [&] {
    return plan.Handle("Bearer api-token", std::string(kSha));
  });
  controller.WaitRunning();
  auto second = plan.Handle("Bearer api-token", std::string(40, 'b'));
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(second.retry_after_seconds, 1);
  controller.Release();
  EXPECT_EQ(first.get().status, 200);
}

}  // namespace
}  // namespace gitdisc::serve
