#include "base/duration.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesSingleUnitsCompoundsAndFractions) {
  EXPECT_EQ(*ParseDuration("90s"), milliseconds(90'000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(*ParseDuration("2h45m10s"), milliseconds((2 * 3600 + 45 * 60 + 10) * 1000LL));
  EXPECT_EQ(*ParseDuration("1.5h"), milliseconds(5'400'000));
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("10000h"), milliseconds(10'000LL * 3'600'000));
}

TEST(Duration, RejectsWhatIsNotADurationWithAReason) {
  for (const char* bad : {"", "0s", "0h0m", "90", "s", "-1m", "5 m", "5M", "1d", "1..5h", ".h",
                          "10001h", "99999999999999999999s", " 5m", "1h30", "m5"}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), Status::Code::kInvalid) << bad;
    EXPECT_NE(d.status().message().find("is not a duration"), std::string::npos) << bad;
  }
}

TEST(Duration, FormatsTheShortestExactSpellingThatParsesBack) {
  EXPECT_EQ(FormatDuration(milliseconds(600'000)), "10m");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(7'200'000)), "2h");
  EXPECT_EQ(FormatDuration(milliseconds(5'400'250)), "1h30m250ms");
  for (long long ms : {1LL, 999LL, 1000LL, 61'001LL, 3'600'000LL, 86'400'000LL}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

}  // namespace
}  // namespace gitdisc
