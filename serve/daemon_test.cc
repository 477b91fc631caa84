#include "serve/daemon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/fake_controller.h"

namespace gitdisc::serve {
namespace {

using namespace std::chrono_literals;

HttpServerOptions LocalOptions(int port) {
  HttpServerOptions o;
  o.port = port;
  return o;
}

// Records the lifecycle; Stop blocks until `release` (an apply in flight).
class FakeServed final : public ServedController {
 public:
  reconciler::ControllerApi* api() override { return &api_; }
  void Start() override { started_ = true; }
  void Stop() override {
    std::unique_lock<std::mutex> l(mu_);
    stop_called_ = true;
    cv_.wait(l, [this] { return released_; });
    stopped_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    released_ = true;
    cv_.notify_all();
  }
  testing::FakeController api_;
  std::atomic<bool> started_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  bool stop_called_ = false;
  bool stopped_ = false;
};

// Waits (without a timing assertion) until cond holds; fails after a
// generous bound only so a bug cannot hang the suite.
template <typename F>
bool Eventually(F cond) {
  for (int i = 0; i < 6000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest()
      : log_(&out_, LogFormat::kText, &clock_, true),
        metrics_(&registry_),
        http_(LocalOptions(0), served_.api(), &registry_, &metrics_, &log_) {}
  SystemClock clock_;
  std::ostringstream out_;
  DaemonLog log_;
  MetricsRegistry registry_;
  GitdiscMetrics metrics_;
  FakeServed served_;
  HttpServer http_;
};

TEST(JitteredInterval, StaysWithinTenPercent) {
  EXPECT_EQ(JitteredInterval(60s, 0.1, 0.0), 54s);
  EXPECT_EQ(JitteredInterval(60s, 0.1, 0.5), 60s);
  EXPECT_EQ(JitteredInterval(60s, 0.1, 1.0), 66s);
  EXPECT_EQ(JitteredInterval(60s, 0.1, 7.0), 66s);  // clamped
  EXPECT_EQ(JitteredInterval(0ms, 0.1, 0.5), 1ms);  // never a busy loop
}

TEST_F(DaemonTest, PollsNotifyTheControllerAndStopIsOrderly) {
  DaemonOptions o;
  o.poll_interval = 20ms;
  o.shutdown_grace = 3600s;
  Daemon d(o, &served_, &http_, &log_, [] { return 0.5; });
  ASSERT_TRUE(d.Start().ok());
  EXPECT_TRUE(served_.started_);
  ASSERT_TRUE(Eventually([&] { return served_.api_.source_changed().size() >= 3; }));
  for (const auto& reason : served_.api_.source_changed()) EXPECT_EQ(reason, "poll");

  std::thread runner([&] { EXPECT_TRUE(d.Run()); });
  d.RequestStop("SIGTERM");
  // The HTTP server stops first; the controller's Stop is still waiting for
  // its apply, and Run waits for it.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(served_.mu_);
    return served_.stop_called_;
  }));
  {
    std::lock_guard<std::mutex> l(served_.mu_);
    EXPECT_FALSE(served_.stopped_);
  }
  int polls = d.polls();
  served_.Release();
  runner.join();
  EXPECT_TRUE(served_.stopped_);
  EXPECT_EQ(d.polls(), polls);  // no poll after the stop request
  EXPECT_THAT(out_.str(),
              ::testing::HasSubstr("shutting down: no new work is taken reason=SIGTERM"));
  EXPECT_THAT(out_.str(), ::testing::HasSubstr("stopped: in-flight work finished"));
}

TEST_F(DaemonTest, HousekeepingRunsOnItsTimerUntilTheStop) {
  std::atomic<int> rounds{0};
  DaemonOptions o;
  o.poll_interval = 1h;
  o.housekeeping = [&rounds] { ++rounds; };
  o.housekeeping_interval = 10ms;
  Daemon d(o, &served_, &http_, &log_, [] { return 0.5; });
  ASSERT_TRUE(d.Start().ok());
  ASSERT_TRUE(Eventually([&] { return rounds.load() >= 3; }));
  served_.Release();
  d.RequestStop("test");
  EXPECT_TRUE(d.Run());
  int after = rounds.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rounds.load(), after) << "no round after the stop";
}

TEST_F(DaemonTest, GracePeriodBoundsTheShutdown) {
  DaemonOptions o;
  o.poll_interval = 3600s;
  o.shutdown_grace = 10ms;
  Daemon d(o, &served_, &http_, &log_, [] { return 0.5; });
  ASSERT_TRUE(d.Start().ok());
  d.RequestStop("SIGINT");
  EXPECT_FALSE(d.Run());
  EXPECT_THAT(out_.str(), ::testing::HasSubstr("recovered at the next start"));
  served_.Release();  // lets the detached stopper finish before the fixture goes
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(served_.mu_);
    return served_.stopped_;
  }));
}

TEST_F(DaemonTest, BusyPortFailsStartBeforeTheControllerRuns) {
  HttpServer other(LocalOptions(0), served_.api(), &registry_, &metrics_, &log_);
  ASSERT_TRUE(other.Start().ok());
  HttpServer clash(LocalOptions(other.port()), served_.api(), &registry_, &metrics_, &log_);
  Daemon d(DaemonOptions{}, &served_, &clash, &log_);
  EXPECT_FALSE(d.Start().ok());
  EXPECT_FALSE(served_.started_);
}

}  // namespace
}  // namespace gitdisc::serve
