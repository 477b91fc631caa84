// Tests of the small pure helpers: durations, names, repo paths.
#include <gtest/gtest.h>

#include "specs/duration.h"
#include "specs/name_rules.h"
#include "specs/repo_path.h"

namespace gitdisc::specs {
namespace {

TEST(Duration, ParsesTheOneGrammarInWholeSeconds) {
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("5m"), std::chrono::seconds(300));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::seconds(5400));  // as the daemon config takes it
  EXPECT_EQ(*ParseDuration("1.5m"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("168h"), kMaxDuration);
}

TEST(Duration, RejectsEverythingElse) {
  for (const char* bad : {"", "0s", "90", "s", "1500ms", "-1m", "5 m", "5M", "1d", "169h",
                          "99999999999999999999s", " 5m"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), Status::Code::kInvalid) << bad;
    }
  }
}

TEST(Duration, FormatsShortest) {
  EXPECT_EQ(FormatDuration(std::chrono::seconds(600)), "10m");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(7200)), "2h");
}

TEST(NameRules, DnsLabels) {
  EXPECT_TRUE(IsDnsLabel("web-baseline"));
  EXPECT_TRUE(IsDnsLabel("a"));
  EXPECT_TRUE(IsDnsLabel("0ab"));
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  for (const std::string& bad :
       std::vector<std::string>{"", "-a", "a-", "A", "a_b", "a.b", std::string(64, 'a'), "é"}) {
    EXPECT_FALSE(IsDnsLabel(bad)) << bad;
  }
}

TEST(NameRules, EnvNames) {
  EXPECT_TRUE(IsEnvName("GREETING"));
  EXPECT_TRUE(IsEnvName("_x1"));
  EXPECT_FALSE(IsEnvName(""));
  EXPECT_FALSE(IsEnvName("1X"));
  EXPECT_FALSE(IsEnvName("A-B"));
  EXPECT_FALSE(IsEnvName("A=B"));
}

TEST(NameRules, LabelKeysAndValues) {
  EXPECT_TRUE(IsLabelKey("role"));
  EXPECT_TRUE(IsLabelKey("example.com/role"));
  EXPECT_TRUE(IsLabelKey("Role_1.x"));
  EXPECT_FALSE(IsLabelKey(""));
  EXPECT_FALSE(IsLabelKey("example.com/"));
  EXPECT_FALSE(IsLabelKey("Example.com/a"));
  EXPECT_FALSE(IsLabelKey("a b"));
  EXPECT_FALSE(IsLabelKey(std::string(64, 'a')));
  EXPECT_TRUE(IsLabelValue(""));
  EXPECT_TRUE(IsLabelValue("v1.2_3-x"));
  EXPECT_FALSE(IsLabelValue("-x"));
  EXPECT_FALSE(IsLabelValue(std::string(64, 'a')));
}

TEST(NameRules, SuggestsCloseWords) {
  std::vector<std::string> keys = {"name", "version", "path", "after", "reboot"};
  EXPECT_EQ(Suggest("verison", keys), "version");
  EXPECT_EQ(Suggest("Version", keys), "version");
  EXPECT_EQ(Suggest("pth", keys), "path");
  EXPECT_EQ(Suggest("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(Suggest(std::string(1000, 'x'), keys), std::nullopt);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(RepoPath, Normal) {
  EXPECT_TRUE(IsNormalRepoPath(""));
  EXPECT_TRUE(IsNormalRepoPath("a/b"));
  for (const char* bad : {"/a", "a/", "a//b", "./a", "a/./b", "a/..", ".."}) {
    EXPECT_FALSE(IsNormalRepoPath(bad)) << bad;
  }
}

TEST(RepoPath, Normalise) {
  EXPECT_EQ(NormaliseRepoPath("./a//b/"), "a/b");
  EXPECT_EQ(NormaliseRepoPath("a/x/../b"), "a/b");
  EXPECT_EQ(NormaliseRepoPath("."), "");
  EXPECT_EQ(NormaliseRepoPath("a/../.."), std::nullopt);
  EXPECT_EQ(NormaliseRepoPath("/a"), std::nullopt);
}

TEST(RepoPath, JoinParentWithin) {
  EXPECT_EQ(JoinRepoPath("", "b"), "b");
  EXPECT_EQ(JoinRepoPath("a", "b"), "a/b");
  EXPECT_EQ(RepoPathParent("a/b/c"), "a/b");
  EXPECT_EQ(RepoPathParent("a"), "");
  EXPECT_TRUE(RepoPathWithin("a/b", "a"));
  EXPECT_TRUE(RepoPathWithin("a", "a"));
  EXPECT_TRUE(RepoPathWithin("a", ""));
  EXPECT_FALSE(RepoPathWithin("ab", "a"));
}

}  // namespace
}  // namespace gitdisc::specs
