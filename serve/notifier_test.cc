#include "serve/notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "base/clock.h"
#include "tests/support/recording_poster.h"

namespace gitdisc::serve {
namespace {

using gitdisc::testing::RecordingPoster;
using ::testing::HasSubstr;
using ::testing::Not;

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() : metrics_(&registry_), log_(&log_text_, LogFormat::kText, &clock_, true) {}

  std::unique_ptr<Notifier> Make(NotifierOptions o = {}) {
    o.first_backoff = std::chrono::milliseconds(5);
    o.max_backoff = std::chrono::milliseconds(20);
    auto n = std::make_unique<Notifier>(o, &poster_, metrics_.notify_requests, &log_);
    n->Start();
    return n;
  }
  static OutgoingRequest Request(const std::string& key, const std::string& body = "{}") {
    OutgoingRequest r;
    r.target = "github_status";
    r.key = key;
    r.url = "https://api.example/repos/o/n/statuses/" + key;
    r.headers = {{"Authorization", "Bearer s3cr3t-token"}};
    r.body = body;
    r.what = "status for " + key;
    return r;
  }
  double Count(const std::string& result) {
    return metrics_.notify_requests.Value({"github_status", result});
  }

  SystemClock clock_;
  MetricsRegistry registry_;
  GitdiscMetrics metrics_;
  std::ostringstream log_text_;
  DaemonLog log_;
  RecordingPoster poster_;
};

TEST_F(NotifierTest, SendsEachRequestOnceWithItsDeadline) {
  NotifierOptions o;
  o.timeout = std::chrono::milliseconds(1234);
  auto n = Make(o);
  n->Enqueue(Request("a"));
  n->Enqueue(Request("b"));
  ASSERT_TRUE(n->WaitIdle(std::chrono::seconds(5)));
  ASSERT_EQ(poster_.requests().size(), 2u);
  EXPECT_EQ(poster_.requests()[0].key, "a");
  EXPECT_EQ(poster_.timeouts()[0], std::chrono::milliseconds(1234));
  EXPECT_EQ(Count("ok"), 2);
}

TEST_F(NotifierTest, RetriesWhatMayPassWithBackoffThenSucceeds) {
  poster_.Script({0, 503, 429});
  auto n = Make();
  n->Enqueue(Request("a"));
  ASSERT_TRUE(n->WaitIdle(std::chrono::seconds(5)));
  EXPECT_EQ(poster_.requests().size(), 4u);
  EXPECT_EQ(Count("retry"), 3);
  EXPECT_EQ(Count("ok"), 1);
}

TEST_F(NotifierTest, GivesUpAfterItsAttemptsAndSaysSoWithoutTheToken) {
  poster_.Script({}, 502);
  NotifierOptions o;
  o.max_attempts = 3;
  auto n = Make(o);
  n->Enqueue(Request("a"));
  ASSERT_TRUE(n->WaitIdle(std::chrono::seconds(5)));
  EXPECT_EQ(poster_.requests().size(), 3u);
  EXPECT_EQ(Count("retry"), 2);
  EXPECT_EQ(Count("failed"), 1);
  EXPECT_THAT(log_text_.str(), HasSubstr("notification failed"));
  EXPECT_THAT(log_text_.str(), HasSubstr("HTTP 502"));
  EXPECT_THAT(log_text_.str(), Not(HasSubstr("s3cr3t-token")));
}

TEST_F(NotifierTest, APermanentRefusalIsNotRetried) {
  poster_.Script({401});
  auto n = Make();
  n->Enqueue(Request("a"));
  ASSERT_TRUE(n->WaitIdle(std::chrono::seconds(5)));
  EXPECT_EQ(poster_.requests().size(), 1u);
  EXPECT_EQ(Count("failed"), 1);
  EXPECT_EQ(Count("retry"), 0);
}

TEST_F(NotifierTest, ANewerRequestForTheSameKeyReplacesAQueuedOne) {
  // Not started: everything stays queued until Start.
  NotifierOptions o;
  Notifier n(o, &poster_, metrics_.notify_requests, &log_);
  n.Enqueue(Request("a", "{\"state\":\"pending\"}"));
  n.Enqueue(Request("b"));
  n.Enqueue(Request("a", "{\"state\":\"success\"}"));
  n.Start();
  ASSERT_TRUE(n.WaitIdle(std::chrono::seconds(5)));
  auto sent = poster_.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].key, "a");
  EXPECT_EQ(sent[0].body, "{\"state\":\"success\"}");
  EXPECT_EQ(sent[1].key, "b");
}

TEST_F(NotifierTest, AFullQueueDropsTheOldestAndCountsIt) {
  NotifierOptions o;
  o.max_queue = 2;
  Notifier n(o, &poster_, metrics_.notify_requests, &log_);
  n.Enqueue(Request("a"));
  n.Enqueue(Request("b"));
  n.Enqueue(Request("c"));
  n.Start();
  ASSERT_TRUE(n.WaitIdle(std::chrono::seconds(5)));
  auto sent = poster_.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].key, "b");
  EXPECT_EQ(sent[1].key, "c");
  EXPECT_EQ(Count("dropped"), 1);
}

TEST_F(NotifierTest, StopDropsWhatIsStillWaitingForItsRetry) {
  poster_.Script({}, 503);
  NotifierOptions o;
  o.first_backoff = std::chrono::seconds(60);
  Notifier n(o, &poster_, metrics_.notify_requests, &log_);
  n.Start();
  n.Enqueue(Request("a"));
  for (int i = 0; i < 2500 && Count("retry") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto start = std::chrono::steady_clock::now();
  n.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(poster_.requests().size(), 1u);
  EXPECT_EQ(Count("dropped"), 1);
}

}  // namespace
}  // namespace gitdisc::serve
