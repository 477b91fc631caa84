#include "serve/daemon_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace gitdisc::serve {
namespace {

TEST(DaemonLog, JsonIsOneObjectPerLine) {
  FakeClock clock;
  std::ostringstream out;
  DaemonLog log(&out, LogFormat::kJson, &clock);
  log.Info("webhook accepted", {{"provider", "github"}, {"delivery", "a\"b\nc"}});
  log.Debug("hidden without verbose");
  std::string text = out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "webhook accepted");
  EXPECT_EQ(j["fields"]["provider"], "github");
  EXPECT_EQ(j["fields"]["delivery"], "a\"b\nc");
  EXPECT_THAT(j["ts"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z"));
}

TEST(DaemonLog, TextQuotesValuesThatNeedIt) {
  FakeClock clock;
  std::ostringstream out;
  DaemonLog log(&out, LogFormat::kText, &clock, /*verbose=*/true);
  log.Warn("webhook refused", {{"provider", "gitlab"}, {"reason", "push to refs/heads/x y"}});
  log.Debug("poll");
  EXPECT_THAT(out.str(),
              ::testing::HasSubstr(
                  " WARN webhook refused provider=gitlab reason=\"push to refs/heads/x y\"\n"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr(" DEBUG poll\n"));
}

TEST(DaemonLog, InvalidUtf8DoesNotThrow) {
  FakeClock clock;
  std::ostringstream out;
  DaemonLog log(&out, LogFormat::kJson, &clock);
  log.Info("x", {{"v", std::string("\xff\xfe", 2)}});
  EXPECT_FALSE(out.str().empty());
}

}  // namespace
}  // namespace gitdisc::serve
