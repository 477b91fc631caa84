#include "serve/commit_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gitdisc::serve {
namespace {

using reconciler::FleetStatus;
using reconciler::VmCondition;
using reconciler::VmStatus;
using ::testing::ElementsAre;
using ::testing::Pair;

const std::string kRev = "1111111111111111111111111111111111111111";
const std::string kTip = "2222222222222222222222222222222222222222";

FleetStatus Fleet(std::vector<VmCondition> conditions) {
  FleetStatus s;
  s.source.revision = kRev;
  s.source.last_valid_revision = kRev;
  int i = 0;
  for (VmCondition c : conditions) {
    VmStatus v;
    v.name = "vm-" + std::to_string(++i);
    v.condition = c;
    v.revision = kRev;
    s.vms.push_back(v);
  }
  return s;
}

TEST(CommitStatus, ARolloutIsPendingWithItsCountThenSuccess) {
  auto pending = FleetCommitStatuses(
      Fleet({VmCondition::kReady, VmCondition::kProgressing, VmCondition::kNotSelected}));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].sha, kRev);
  EXPECT_EQ(pending[0].state, CommitState::kPending);
  EXPECT_EQ(pending[0].context, "gitdisc");
  EXPECT_EQ(pending[0].description, "1/2 VMs ready");

  auto done = FleetCommitStatuses(Fleet({VmCondition::kReady, VmCondition::kReady}));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].state, CommitState::kSuccess);
  EXPECT_EQ(done[0].description, "2/2 VMs ready");
}

TEST(CommitStatus, FailedVmsMakeAFailureOnceNothingMoves) {
  auto moving = FleetCommitStatuses(Fleet({VmCondition::kFailed, VmCondition::kWaiting}));
  EXPECT_EQ(moving[0].state, CommitState::kPending);
  EXPECT_EQ(moving[0].description, "0/2 VMs ready, 1 Failed");
  auto stuck = FleetCommitStatuses(
      Fleet({VmCondition::kReady, VmCondition::kFailed, VmCondition::kHalted}));
  EXPECT_EQ(stuck[0].state, CommitState::kFailure);
  EXPECT_EQ(stuck[0].description, "1/3 VMs ready, 1 Failed, 1 Halted");
  // A VM the controller cannot manage is not waited for: a failure, not
  // pending for ever; a misbehaving agent may still come back.
  auto unmanageable = FleetCommitStatuses(Fleet({VmCondition::kReady, VmCondition::kNotManageable}));
  EXPECT_EQ(unmanageable[0].state, CommitState::kFailure);
  EXPECT_EQ(unmanageable[0].description, "1/2 VMs ready, 1 NotManageable");
  auto misbehaving =
      FleetCommitStatuses(Fleet({VmCondition::kReady, VmCondition::kAgentMisbehaving}));
  EXPECT_EQ(misbehaving[0].state, CommitState::kPending);
}

TEST(CommitStatus, AnUnverifiedRevisionGetsAnErrorNeverASuccess) {
  FleetStatus s = Fleet({VmCondition::kReady});
  s.source.revision = kTip;
  s.source.unverified_revision = kTip;
  s.source.unverified_commit = kTip;
  s.source.unverified_reason = "unsigned: the commit carries no signature";
  auto all = FleetCommitStatuses(s);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].sha, kRev);
  EXPECT_EQ(all[0].state, CommitState::kSuccess);
  EXPECT_EQ(all[1].sha, kTip);
  EXPECT_EQ(all[1].state, CommitState::kError);
  EXPECT_EQ(all[1].description, "not applied: signature: unsigned: the commit carries no signature");
}

TEST(CommitStatus, InvalidSpecsAtTheTipGetAFailure) {
  FleetStatus s = Fleet({VmCondition::kReady});
  s.source.revision = kTip;
  s.source.spec_errors = {"web.yaml:3:5: error: unknown key 'payload'"};
  auto all = FleetCommitStatuses(s);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].sha, kTip);
  EXPECT_EQ(all[1].state, CommitState::kFailure);
  EXPECT_EQ(all[1].description,
            "not applied: specs invalid: web.yaml:3:5: error: unknown key 'payload'");
}

TEST(CommitStatus, NothingBeforeTheFirstScanOrWhileVmsShowAnotherRevision) {
  EXPECT_TRUE(FleetCommitStatuses(FleetStatus{}).empty());
  FleetStatus s = Fleet({VmCondition::kReady});
  s.vms[0].revision = kTip;
  EXPECT_TRUE(FleetCommitStatuses(s).empty());
}

TEST(CommitStatus, TheTrackerReportsOnlyChanges) {
  CommitStatusTracker t;
  auto a = FleetCommitStatuses(Fleet({VmCondition::kProgressing}));
  EXPECT_EQ(t.Changes(a).size(), 1u);
  EXPECT_TRUE(t.Changes(a).empty());
  EXPECT_EQ(t.Changes(FleetCommitStatuses(Fleet({VmCondition::kReady}))).size(), 1u);
}

TEST(CommitStatus, DescriptionsAreCutToGithubsLimitOnACharacterBoundary) {
  std::string text(130, 'a');
  text += "ééééééééééé";  // two bytes each
  std::string cut = StatusDescription(text);
  EXPECT_LE(cut.size(), kMaxStatusDescription);
  EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
  std::string before = cut.substr(0, cut.size() - 3);
  EXPECT_NE(static_cast<unsigned char>(before.back()), 0xC3) << "no half character";
  EXPECT_EQ(StatusDescription("short"), "short");
}

TEST(CommitStatus, GithubRequestNamesRepoShaTokenAndContext) {
  ServeConfig::StatusTarget t{"https://api.github.example", "acme/fleet", Secret("tok", "/f")};
  CommitStatusUpdate u{kRev, CommitState::kSuccess, "gitdisc", "12/12 VMs ready"};
  OutgoingRequest r = GithubStatusRequest(t, u);
  EXPECT_EQ(r.url, "https://api.github.example/repos/acme/fleet/statuses/" + kRev);
  EXPECT_THAT(r.headers, ::testing::Contains(Pair("Authorization", "Bearer tok")));
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["state"], "success");
  EXPECT_EQ(body["context"], "gitdisc");
  EXPECT_EQ(body["description"], "12/12 VMs ready");
  EXPECT_EQ(r.target, "github_status");
  EXPECT_EQ(r.what.find("tok"), std::string::npos);
}

TEST(CommitStatus, GitlabRequestEncodesTheProjectAndUsesPrivateToken) {
  ServeConfig::StatusTarget t{"https://gitlab.example/api/v4", "group/fleet", Secret("tok", "/f")};
  CommitStatusUpdate u{kRev, CommitState::kError, "gitdisc", "not applied: signature: unsigned"};
  OutgoingRequest r = GitlabStatusRequest(t, u);
  EXPECT_EQ(r.url, "https://gitlab.example/api/v4/projects/group%2Ffleet/statuses/" + kRev);
  EXPECT_THAT(r.headers, ElementsAre(Pair("PRIVATE-TOKEN", "tok")));
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["state"], "failed");
  EXPECT_EQ(body["name"], "gitdisc");
  EXPECT_EQ(GitlabStateName(CommitState::kPending), std::string("running"));
}

}  // namespace
}  // namespace gitdisc::serve
