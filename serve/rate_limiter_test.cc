#include "serve/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;

TEST(TokenBucket, AllowsABurstThenTheAverageRate) {
  FakeClock clock;
  TokenBucket b(0.5, 3, &clock);
  EXPECT_TRUE(b.TryTake());
  EXPECT_TRUE(b.TryTake());
  EXPECT_TRUE(b.TryTake());
  EXPECT_FALSE(b.TryTake());
  EXPECT_EQ(b.WaitForNext(), std::chrono::milliseconds(2000));
  clock.Advance(std::chrono::milliseconds(1999));
  EXPECT_FALSE(b.TryTake());
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(b.TryTake());
  clock.Advance(std::chrono::hours(1));  // never more than the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.TryTake());
  EXPECT_FALSE(b.TryTake());
}

TEST(LogThrottle, AFloodWritesAFewLinesAndCountsTheRest) {
  FakeClock clock;
  std::ostringstream out;
  DaemonLog log(&out, LogFormat::kText, &clock);
  LogThrottle t(1, 2, &clock);
  for (int i = 0; i < 1000; ++i) t.Warn(&log, "webhook refused", {{"n", std::to_string(i)}});
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  clock.Advance(std::chrono::seconds(1));
  t.Warn(&log, "webhook refused", {});
  EXPECT_THAT(out.str(), HasSubstr("suppressed=998"));
}

}  // namespace
}  // namespace gitdisc::serve
