#include "serve/previews.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "base/clock.h"
#include "tests/support/fake_controller.h"

namespace gitdisc::serve {
namespace {

using json = nlohmann::json;
using gitdisc::testing::FakeController;
using ::testing::HasSubstr;

json Vm(const std::string& name, const std::string& action, std::vector<std::string> apply = {}) {
  return {{"name", name}, {"action", action}, {"apply", apply}};
}

TEST(PreviewSummary, CountsVmsPerVerbAndPayload) {
  json plan = {{"vms", json::array()}};
  for (int i = 0; i < 12; ++i) plan["vms"].push_back(Vm("web-" + std::to_string(i), "install", {"motd", "nginx"}));
  for (int i = 0; i < 3; ++i) plan["vms"].push_back(Vm("db-" + std::to_string(i), "upgrade", {"pg"}));
  json edge = Vm("edge-1", "blocked");
  edge["condition"] = "AgentUnavailable";
  edge["payloads"] = {{{"name", "motd"}, {"state", "pending"}}, {{"name", "ca"}, {"state", "applied"}}};
  plan["vms"].push_back(edge);
  plan["vms"].push_back(Vm("other", "skip"));
  EXPECT_EQ(PreviewSummary(plan),
            "would install motd+nginx on 12 VMs, upgrade pg on 3; 1 VM blocked (AgentUnavailable), "
            "pending there: motd");
  json only_blocked = {{"vms", {edge}}};
  EXPECT_EQ(PreviewSummary(only_blocked),
            "nothing to do now; 1 VM blocked (AgentUnavailable), pending there: motd");
}

TEST(PreviewSummary, SaysWhenNothingChanges) {
  json plan = {{"vms", {Vm("a", "in-sync"), Vm("b", "in-sync"), Vm("c", "skip")}}};
  EXPECT_EQ(PreviewSummary(plan), "no change: 2 VMs in sync");
  EXPECT_EQ(PreviewSummary(json{{"vms", {Vm("c", "skip")}}}), "no VM selected");
}

TEST(PreviewSummary, UninstallsAreCountedWhenThePlanListsThem) {
  json vm = Vm("a", "in-sync");
  vm["uninstall"] = {"ca"};
  EXPECT_EQ(PreviewSummary(json{{"vms", {vm}}}), "would uninstall ca on 1 VM");
}

class PreviewRunnerTest : public ::testing::Test {
 protected:
  PreviewRunnerTest() : log_(&log_text_, LogFormat::kText, &clock_) {}
  std::unique_ptr<PreviewRunner> Make() {
    PreviewOptions o;
    o.retry_every = std::chrono::milliseconds(5);
    o.wait_for_commit = std::chrono::seconds(2);
    auto r = std::make_unique<PreviewRunner>(o, &controller_, [this](const CommitStatusUpdate& u) {
      std::lock_guard<std::mutex> l(mu_);
      posted_.push_back(u);
    }, &log_);
    r->Start();
    return r;
  }
  std::vector<CommitStatusUpdate> posted() {
    std::lock_guard<std::mutex> l(mu_);
    return posted_;
  }

  SystemClock clock_;
  std::ostringstream log_text_;
  DaemonLog log_;
  FakeController controller_;
  std::mutex mu_;
  std::vector<CommitStatusUpdate> posted_;
};

const std::string kHead = "3333333333333333333333333333333333333333";

TEST_F(PreviewRunnerTest, PlansTheHeadOnceFetchedAndPostsPendingThenTheSummary) {
  controller_.SetPlan(json{{"vms", {Vm("web-1", "install", {"motd"})}}}, /*unknown_first=*/3);
  auto runner = Make();
  runner->RequestPreview({"github", 7, kHead});
  ASSERT_TRUE(runner->WaitIdle(std::chrono::seconds(5)));
  auto p = posted();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].state, CommitState::kPending);
  EXPECT_EQ(p[0].context, "gitdisc/preview");
  EXPECT_EQ(p[1].sha, kHead);
  EXPECT_EQ(p[1].state, CommitState::kSuccess);
  EXPECT_EQ(p[1].description, "would install motd on 1 VM");
  ASSERT_FALSE(controller_.source_changed().empty());
  EXPECT_EQ(controller_.source_changed()[0], "pull request github #7");
  EXPECT_EQ(controller_.plan_requests().size(), 4u) << "three misses, then the plan";
}

TEST_F(PreviewRunnerTest, ARefusedHeadIsAFailureAndAnUnknownOneAnError) {
  auto runner = Make();
  runner->RequestPreview({"gitlab", 1, "badbadbadbadbadbadbadbadbadbadbadbadbad0"});
  ASSERT_TRUE(runner->WaitIdle(std::chrono::seconds(5)));
  runner->RequestPreview({"gitlab", 2, "0000000000000000000000000000000000000000"});
  ASSERT_TRUE(runner->WaitIdle(std::chrono::seconds(10)));
  auto p = posted();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[1].state, CommitState::kFailure);
  EXPECT_THAT(p[1].description, HasSubstr("not applied as is: fleet.yaml:3:5"));
  EXPECT_EQ(p[3].state, CommitState::kError);
  EXPECT_THAT(p[3].description, HasSubstr("head not fetched in time"));
}

}  // namespace
}  // namespace gitdisc::serve
