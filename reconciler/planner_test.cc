#include "reconciler/planner.h"

#include <gtest/gtest.h>

#include "base/sha256.h"

namespace gitdisc::reconciler {
namespace {

std::string D(const std::string& s) { return Sha256Hex(s); }

// A small fleet builder: sets with payloads, VMs with their observations.
class World {
 public:
  World& Set(const std::string& name, std::vector<std::pair<std::string, std::string>> payloads,
             specs::Rollout rollout = {{100, true}, 0, 0}, bool suspend = false) {
    DesiredSet s;
    s.name = name;
    s.rollout = rollout;
    s.suspend = suspend;
    for (auto& [p, v] : payloads) s.payload_digests[p] = D(p + v);
    s.content_digest = D(name);
    desired.sets[name] = s;
    order[name] = payloads;
    return *this;
  }
  // A running VM with an agent, one empty drive, selected by `sets`.
  ObservedVm& Vm(const std::string& name, std::vector<std::string> sets) {
    ObservedVm o;
    o.key = "qemu:///system/" + name;
    o.name = name;
    o.host = "qemu:///system";
    o.agent_reachable = true;
    o.drives = {{"hdc", "", ""}};
    if (!sets.empty()) {
      DesiredVm w;
      w.sets = sets;
      std::string bundle;
      for (const std::string& sn : sets) {
        for (auto& [p, v] : order[sn]) {
          DesiredPayload dp{p, v, D(p + v), std::chrono::seconds(60), {sn}};
          w.payloads.push_back(dp);
          bundle += dp.digest;
        }
      }
      w.bundle_digest = D(bundle);
      desired.vms[o.key] = w;
    }
    observed.push_back(o);
    return observed.back();
  }
  ObservedVm& Get(const std::string& name) {
    for (auto& o : observed) {
      if (o.name == name) return o;
    }
    abort();
  }
  void Applied(const std::string& vm, const std::string& p, const std::string& v,
               const std::string& result = "ok") {
    Get(vm).ledger.push_back({"op-x", p, D(p + v), result, ""});
  }
  std::string Bundle(const std::string& vm) {
    return desired.vms["qemu:///system/" + vm].bundle_digest;
  }
  Plan Run(PlanOptions opt = {}) { return MakePlan(desired, observed, opt); }

  DesiredState desired;
  std::vector<ObservedVm> observed;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> order;
};

VmPlan P(const Plan& plan, const std::string& name) {
  for (const VmPlan& v : plan.vms) {
    if (v.name == name) return v;
  }
  abort();
}

TEST(Planner, NewVmGetsInstallOfEveryPayloadIntoTheEmptyDrive) {
  World w;
  w.Set("web", {{"motd", "1"}, {"nginx", "2"}});
  w.Vm("web-1", {"web"});
  Plan plan = w.Run();
  VmPlan p = P(plan, "web-1");
  EXPECT_EQ(p.kind, PlanKind::kInstall);
  EXPECT_EQ(p.condition, VmCondition::kProgressing);
  EXPECT_EQ(p.apply, (std::vector<std::string>{"motd", "nginx"}));
  EXPECT_EQ(p.insert_drive, "hdc");
  EXPECT_EQ(p.bundle_digest, w.Bundle("web-1"));
  EXPECT_EQ(p.op_id, OperationId(p.key, p.bundle_digest, p.apply, ""));
  EXPECT_FALSE(plan.InSync());
  EXPECT_EQ(plan.Pending(), 1);
}

TEST(Planner, ChangedDigestIsAnUpgradeOfOnlyThatPayload) {
  World w;
  w.Set("web", {{"motd", "2"}, {"nginx", "2"}});
  w.Vm("web-1", {"web"});
  w.Applied("web-1", "motd", "1");
  w.Applied("web-1", "nginx", "2");
  VmPlan p = P(w.Run(), "web-1");
  EXPECT_EQ(p.kind, PlanKind::kUpgrade);
  EXPECT_EQ(p.apply, (std::vector<std::string>{"motd"}));
  // The disc carries the full bundle, the apply names only what is missing.
  EXPECT_EQ(p.bundle_digest, w.Bundle("web-1"));
  ASSERT_EQ(p.payloads.size(), 2u);
  EXPECT_EQ(p.payloads[0].state, PayloadState::kPending);
  EXPECT_EQ(p.payloads[1].state, PayloadState::kApplied);
}

TEST(Planner, EverythingAppliedIsInSyncAndTouchesNothing) {
  World w;
  w.Set("web", {{"motd", "1"}});
  w.Vm("web-1", {"web"});
  w.Applied("web-1", "motd", "1");
  Plan plan = w.Run();
  VmPlan p = P(plan, "web-1");
  EXPECT_EQ(p.kind, PlanKind::kInSync);
  EXPECT_EQ(p.condition, VmCondition::kReady);
  EXPECT_TRUE(p.eject_drives.empty());
  EXPECT_TRUE(p.insert_drive.empty());
  EXPECT_TRUE(plan.InSync());
  ASSERT_EQ(plan.sets.size(), 1u);
  EXPECT_EQ(plan.sets[0].rollout, RolloutState::kComplete);
}

TEST(Planner, ReadyVmGetsOurLeftoverDiscEjected) {
  World w;
  w.Set("web", {{"motd", "1"}});
  auto& o = w.Vm("web-1", {"web"});
  o.drives = {{"hdc", "/var/lib/gitdisc/isos/x.iso", w.Bundle("web-1")}};
  o.op = ObservedOp{"op-1", false, false, true, w.Bundle("web-1"), ""};
  w.Applied("web-1", "motd", "1");
  Plan plan = w.Run();
  VmPlan p = P(plan, "web-1");
  EXPECT_EQ(p.condition, VmCondition::kReady);
  EXPECT_EQ(p.eject_drives, (std::vector<std::string>{"hdc"}));
  EXPECT_FALSE(p.force_eject);
  EXPECT_FALSE(plan.InSync());
}

TEST(Planner, ConflictAppliesNothing) {
  World w;
  w.Set("a", {{"motd", "1"}});
  w.Vm("vm", {"a"});
  w.desired.vms["qemu:///system/vm"].conflict = true;
  w.desired.vms["qemu:///system/vm"].conflict_message = "motd differs between a and b";
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.kind, PlanKind::kBlocked);
  EXPECT_EQ(p.condition, VmCondition::kConflict);
  EXPECT_TRUE(p.apply.empty());
  EXPECT_TRUE(p.insert_drive.empty());
}

TEST(Planner, NotRunningIsPending) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.running = false;
  o.power = "shut off";
  o.agent_reachable = false;
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.condition, VmCondition::kPending);
  EXPECT_EQ(p.kind, PlanKind::kBlocked);
  EXPECT_TRUE(p.insert_drive.empty());
}

TEST(Planner, MissingAgentIsAgentUnavailableAndKeepsOurDiscUntilTimeout) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.agent_reachable = false;
  o.agent_error = "channel closed";
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.condition, VmCondition::kAgentUnavailable);
  EXPECT_TRUE(p.eject_drives.empty());

  w.Get("vm").drives = {{"hdc", "/c/" + w.Bundle("vm") + ".iso", w.Bundle("vm")}};
  EXPECT_TRUE(P(w.Run(), "vm").eject_drives.empty()) << "never pull a disc a payload may read";
  w.Get("vm").disc_overdue = true;
  VmPlan late = P(w.Run(), "vm");
  EXPECT_EQ(late.eject_drives, (std::vector<std::string>{"hdc"}));
  EXPECT_TRUE(late.force_eject);
}

TEST(Planner, AMisbehavingAgentIsReportedWithTheBoundItBrokeAndTreatedAsGone) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.agent_reachable = false;
  o.agent_misbehaving = "TooManyLines";
  o.agent_error = "more than 4096 lines in one call";
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.condition, VmCondition::kAgentMisbehaving);
  EXPECT_EQ(p.reason, "TooManyLines");
  EXPECT_NE(p.message.find("4096 lines"), std::string::npos) << p.message;
  EXPECT_EQ(p.kind, PlanKind::kBlocked);
  EXPECT_TRUE(p.insert_drive.empty()) << "nothing is given to a guest that is cut off";

  w.Get("vm").drives = {{"hdc", "/c/" + w.Bundle("vm") + ".iso", w.Bundle("vm")}};
  EXPECT_TRUE(P(w.Run(), "vm").eject_drives.empty());
  w.Get("vm").disc_overdue = true;
  VmPlan late = P(w.Run(), "vm");
  EXPECT_EQ(late.eject_drives, (std::vector<std::string>{"hdc"}));
  EXPECT_TRUE(late.force_eject);
}

TEST(Planner, ForeignMediaInEveryDriveIsDriveBusyAndLeftAlone) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/srv/install.iso", ""}};
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.condition, VmCondition::kDriveBusy);
  EXPECT_TRUE(p.eject_drives.empty());
  EXPECT_TRUE(p.insert_drive.empty());
}

// NotManageable: what cannot work is said at once, never waited for.
TEST(Planner, NoChannelIsNotManageableWhateverTheAgentOrPowerSays) {
  World w;
  w.Set("a", {{"motd", "1"}});
  struct Row {
    const char* what;
    bool running;
    bool reachable;
  };
  for (const Row& r : {Row{"running", true, false}, Row{"shut off", false, false}}) {
    World t = w;
    auto& o = t.Vm("vm", {"a"});
    o.has_agent_channel = false;
    o.running = r.running;
    o.power = r.running ? "running" : "shutoff";
    o.agent_reachable = r.reachable;
    VmPlan p = P(t.Run(), "vm");
    EXPECT_EQ(p.condition, VmCondition::kNotManageable) << r.what;
    EXPECT_EQ(p.reason, "NoAgentChannel") << r.what;
    EXPECT_NE(p.message.find("gitdisc vm prepare vm"), std::string::npos) << p.message;
    EXPECT_EQ(p.kind, PlanKind::kBlocked);
    EXPECT_TRUE(p.insert_drive.empty());
  }
}

TEST(Planner, AChannelWhoseAgentIsSilentStillWaits) {
  World w;
  w.Set("a", {{"motd", "1"}});
  w.Vm("vm", {"a"}).agent_reachable = false;  // booting, perhaps
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.condition, VmCondition::kAgentUnavailable);
}

TEST(Planner, NoTrayDriveAndNoOtherMethodIsNotManageableWhenThereIsWork) {
  World w;
  w.Set("a", {{"motd", "1"}});
  w.Vm("work", {"a"}).drives.clear();
  w.Vm("done", {"a"}).drives.clear();
  w.Applied("done", "motd", "1");
  Plan plan = w.Run();
  VmPlan work = P(plan, "work");
  EXPECT_EQ(work.condition, VmCondition::kNotManageable);
  EXPECT_EQ(work.reason, "NoDeliveryMethod");
  EXPECT_FALSE(work.counts_in_flight);
  // Nothing to deliver: in sync without any drive.
  EXPECT_EQ(P(plan, "done").condition, VmCondition::kReady);
}

TEST(Planner, AnotherDeliveryMethodKeepsAVmWithoutDrivesManageable) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives.clear();
  o.other_delivery = {"disk"};
  VmPlan p = P(w.Run(), "vm");
  EXPECT_NE(p.condition, VmCondition::kNotManageable);
  EXPECT_EQ(p.reason, "NoFreeDrive");  // hot add itself is not planned here
}

TEST(Planner, ConflictIsReportedBeforeAMissingDrive) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives.clear();
  w.desired.vms[o.key].conflict = true;
  w.desired.vms[o.key].conflict_message = "motd differs";
  EXPECT_EQ(P(w.Run(), "vm").condition, VmCondition::kConflict);
}

TEST(Planner, ForeignMediaInOneDriveUsesTheOther) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/srv/install.iso", ""}, {"hdd", "", ""}};
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.kind, PlanKind::kInstall);
  EXPECT_EQ(p.insert_drive, "hdd");
  EXPECT_TRUE(p.eject_drives.empty());
}

TEST(Planner, OurDiscWithTheRightBundleIsReusedAfterACrash) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/c/x.iso", ""}};
  o.drives[0].our_bundle = w.Bundle("vm");
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.kind, PlanKind::kInstall);
  EXPECT_EQ(p.insert_drive, "") << "the disc is already in";
  EXPECT_TRUE(p.eject_drives.empty());
  EXPECT_EQ(p.op_id, OperationId(p.key, p.bundle_digest, {"motd"}, ""));
}

TEST(Planner, OurStaleDiscIsEjectedAndItsDriveReused) {
  World w;
  w.Set("a", {{"motd", "2"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/c/old.iso", std::string(64, 'e')}};
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.kind, PlanKind::kInstall);
  EXPECT_EQ(p.eject_drives, (std::vector<std::string>{"hdc"}));
  EXPECT_EQ(p.insert_drive, "hdc");
}

TEST(Planner, RunningOperationIsFollowedNotRestarted) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/c/x.iso", w.Bundle("vm")}};
  o.op = ObservedOp{"op-abc", true, false, false, w.Bundle("vm"), ""};
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.kind, PlanKind::kFollow);
  EXPECT_EQ(p.op_id, "op-abc");
  EXPECT_TRUE(p.insert_drive.empty());
  EXPECT_TRUE(p.eject_drives.empty());
  EXPECT_EQ(p.payloads[0].state, PayloadState::kApplying);
}

TEST(Planner, FinishedButUnreleasedDiscWaitsThenForces) {
  World w;
  w.Set("a", {{"motd", "1"}});
  auto& o = w.Vm("vm", {"a"});
  o.drives = {{"hdc", "/c/x.iso", w.Bundle("vm")}};
  o.op = ObservedOp{"op-abc", false, false, false, w.Bundle("vm"), ""};
  w.Applied("vm", "motd", "1");
  EXPECT_TRUE(P(w.Run(), "vm").eject_drives.empty());
  w.Get("vm").disc_overdue = true;
  VmPlan p = P(w.Run(), "vm");
  EXPECT_EQ(p.eject_drives, (std::vector<std::string>{"hdc"}));
  EXPECT_TRUE(p.force_eject);
}

TEST(Planner, FailureBeyondMaxFailuresHaltsTheSet) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{100, true}, 0, 0});
  w.Vm("web-1", {"web"});
  w.Vm("web-2", {"web"});
  w.Applied("web-1", "motd", "1", "failed");
  Plan plan = w.Run();
  EXPECT_EQ(P(plan, "web-1").condition, VmCondition::kFailed);
  EXPECT_TRUE(P(plan, "web-1").counts_failed);
  EXPECT_EQ(P(plan, "web-2").condition, VmCondition::kHalted);
  EXPECT_EQ(P(plan, "web-2").kind, PlanKind::kBlocked);
  ASSERT_EQ(plan.sets.size(), 1u);
  EXPECT_EQ(plan.sets[0].rollout, RolloutState::kHalted);
  EXPECT_EQ(plan.sets[0].failed, 1);
}

TEST(Planner, HaltEndsWhenTheSetsContentChanges) {
  World w;
  w.Set("web", {{"motd", "2"}}, {{100, true}, 0, 0});
  w.Vm("web-1", {"web"});
  w.Vm("web-2", {"web"});
  w.Applied("web-1", "motd", "1", "failed");  // failed at the OLD content
  Plan plan = w.Run();
  EXPECT_EQ(plan.sets[0].rollout, RolloutState::kProgressing);
  EXPECT_EQ(P(plan, "web-1").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "web-2").kind, PlanKind::kInstall);
}

TEST(Planner, FailureWithinMaxFailuresRetriesWithANewOperationId) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{100, true}, 1, 0});
  w.Vm("web-1", {"web"});
  w.Vm("web-2", {"web"});
  w.Applied("web-1", "motd", "1", "failed");
  Plan plan = w.Run();
  VmPlan p = P(plan, "web-1");
  EXPECT_EQ(p.kind, PlanKind::kRetry);
  EXPECT_EQ(p.op_id, OperationId(p.key, p.bundle_digest, {"motd"}, "op-x"));
  EXPECT_NE(p.op_id, OperationId(p.key, p.bundle_digest, {"motd"}, ""));
  // The retry failed too: its record replaces the first; the next retry is new again.
  w.Get("web-1").ledger.back().op_id = p.op_id;
  VmPlan again = P(w.Run(), "web-1");
  EXPECT_EQ(again.kind, PlanKind::kRetry);
  EXPECT_NE(again.op_id, p.op_id) << "the agent would answer a known op id with its old failure";
  EXPECT_EQ(again.op_id, OperationId(p.key, p.bundle_digest, {"motd"}, p.op_id));
  EXPECT_EQ(P(plan, "web-2").kind, PlanKind::kInstall);
  // In backoff, or when the caller does not retry, the VM stays Failed; only
  // a backoff that ends by itself is a retry the caller may wait for.
  w.Get("web-1").retry_backoff = true;
  VmPlan final_failure = P(w.Run(), "web-1");
  EXPECT_EQ(final_failure.condition, VmCondition::kFailed);
  EXPECT_FALSE(final_failure.retry_scheduled);
  w.Get("web-1").retry_scheduled = true;
  VmPlan in_backoff = P(w.Run(), "web-1");
  EXPECT_EQ(in_backoff.condition, VmCondition::kFailed);
  EXPECT_TRUE(in_backoff.retry_scheduled);
  EXPECT_EQ(in_backoff.kind, final_failure.kind) << "nothing to do during the backoff";
  EXPECT_FALSE(P(w.Run({.retry_failed = false}), "web-1").retry_scheduled);
  w.Get("web-1").retry_backoff = false;
  w.Get("web-1").retry_scheduled = false;
  EXPECT_EQ(P(w.Run({.retry_failed = false}), "web-1").condition, VmCondition::kFailed);
}

TEST(Planner, CanaryMustSucceedBeforeTheRestStart) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{100, true}, 0, 1});
  w.Vm("web-2", {"web"});
  w.Vm("web-1", {"web"});
  w.Vm("web-3", {"web"});
  Plan plan = w.Run();
  EXPECT_EQ(P(plan, "web-1").kind, PlanKind::kInstall) << "first by name is the canary";
  EXPECT_EQ(P(plan, "web-2").condition, VmCondition::kWaiting);
  EXPECT_EQ(P(plan, "web-2").reason, "CanaryPending");
  EXPECT_EQ(P(plan, "web-3").condition, VmCondition::kWaiting);
  w.Applied("web-1", "motd", "1");
  plan = w.Run();
  EXPECT_EQ(P(plan, "web-1").kind, PlanKind::kInSync);
  EXPECT_EQ(P(plan, "web-2").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "web-3").kind, PlanKind::kInstall);
}

TEST(Planner, MaxParallelCountLimitsStartsAndCountsDiscsAlreadyIn) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{2, false}, 0, 0});
  for (const char* n : {"a", "b", "c", "d"}) w.Vm(n, {"web"});
  Plan plan = w.Run();
  EXPECT_EQ(P(plan, "a").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "b").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "c").reason, "MaxParallel");
  EXPECT_EQ(P(plan, "d").reason, "MaxParallel");
  // d already has our disc in (a previous pass started it): it keeps going and
  // takes one of the two slots.
  w.Get("d").drives = {{"hdc", "/c/x.iso", w.Bundle("d")}};
  plan = w.Run();
  EXPECT_EQ(P(plan, "a").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "b").reason, "MaxParallel");
  EXPECT_EQ(P(plan, "d").kind, PlanKind::kInstall);
  EXPECT_EQ(plan.sets[0].in_flight, 2);
}

TEST(Planner, MaxParallelPercentRoundsDownWithAFloorOfOne) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{50, true}, 0, 0});
  for (const char* n : {"a", "b", "c", "d", "e"}) w.Vm(n, {"web"});
  Plan plan = w.Run();
  int started = 0;
  for (const VmPlan& v : plan.vms) started += v.kind == PlanKind::kInstall;
  EXPECT_EQ(started, 2);  // 50% of 5 = 2.5 → 2

  World one;
  one.Set("web", {{"motd", "1"}}, {{10, true}, 0, 0});
  one.Vm("a", {"web"});
  one.Vm("b", {"web"});
  plan = one.Run();
  EXPECT_EQ(P(plan, "a").kind, PlanKind::kInstall);  // 10% of 2 → floor 1
  EXPECT_EQ(P(plan, "b").reason, "MaxParallel");
}

TEST(Planner, VmInTwoSetsCountsAgainstBoth) {
  World w;
  w.Set("base", {{"motd", "1"}}, {{1, false}, 0, 0});
  w.Set("db", {{"pg", "1"}}, {{1, false}, 0, 0});
  w.Vm("a", {"base", "db"});
  w.Vm("b", {"base"});
  w.Vm("c", {"db"});
  Plan plan = w.Run();
  EXPECT_EQ(P(plan, "a").kind, PlanKind::kInstall);
  EXPECT_EQ(P(plan, "a").apply, (std::vector<std::string>{"motd", "pg"}));
  EXPECT_EQ(P(plan, "b").reason, "MaxParallel");
  EXPECT_EQ(P(plan, "c").reason, "MaxParallel");
}

TEST(Planner, SuspendedSetBlocksItsWork) {
  World w;
  w.Set("web", {{"motd", "1"}}, {{100, true}, 0, 0}, /*suspend=*/true);
  w.Vm("a", {"web"});
  Plan plan = w.Run();
  EXPECT_EQ(P(plan, "a").condition, VmCondition::kSuspended);
  EXPECT_EQ(plan.sets[0].rollout, RolloutState::kSuspended);
}

TEST(Planner, VmOutsideEverySelectorIsNeverTouched) {
  World w;
  w.Set("web", {{"motd", "1"}});
  auto& o = w.Vm("other", {});
  o.drives = {{"hdc", "/c/x.iso", std::string(64, 'a')}};  // even with a disc of ours
  Plan plan = w.Run();
  VmPlan p = P(plan, "other");
  EXPECT_EQ(p.kind, PlanKind::kSkip);
  EXPECT_EQ(p.condition, VmCondition::kNotSelected);
  EXPECT_TRUE(p.eject_drives.empty());
  EXPECT_TRUE(p.insert_drive.empty());
  EXPECT_TRUE(plan.InSync());
}

TEST(Planner, HaltedSetDoesNotBlockAnotherSetsWork) {
  World w;
  w.Set("bad", {{"broken", "1"}}, {{100, true}, 0, 0});
  w.Set("good", {{"motd", "1"}});
  w.Vm("a", {"bad", "good"});
  w.Vm("b", {"bad", "good"});
  w.Applied("a", "broken", "1", "failed");
  w.Applied("b", "broken", "1", "failed");
  w.Applied("a", "motd", "1");
  Plan plan = w.Run({.retry_failed = false});
  // b still misses motd from a healthy set but also a failed payload: Failed.
  EXPECT_EQ(P(plan, "b").condition, VmCondition::kFailed);
  EXPECT_EQ(plan.sets[0].rollout, RolloutState::kHalted);
}

TEST(Planner, OurBundleFromSourceRecognisesOnlyOurFolders) {
  std::string d(64, 'a');
  EXPECT_EQ(OurBundleFromSource("/var/lib/gitdisc/isos/" + d + ".iso", {"/var/lib/gitdisc/isos"}),
            d);
  EXPECT_EQ(OurBundleFromSource("/var/lib/gitdisc/isos/" + d + ".iso", {"/var/lib/gitdisc/isos/"}),
            d);
  EXPECT_EQ(OurBundleFromSource("/pool/" + d, {"/pool"}), d);
  EXPECT_EQ(OurBundleFromSource("/elsewhere/" + d + ".iso", {"/var/lib/gitdisc/isos"}), "");
  EXPECT_EQ(OurBundleFromSource("/var/lib/gitdisc/isos/debian.iso", {"/var/lib/gitdisc/isos"}), "");
  EXPECT_EQ(OurBundleFromSource("", {"/var/lib/gitdisc/isos"}), "");
}

TEST(Planner, OurBundleFromSourceRecognisesTheGitdiscFolderOnAnyVsphereDatastore) {
  std::string d(64, 'b');
  EXPECT_EQ(OurBundleFromSource("[LocalDS_0] gitdisc/" + d + ".iso", {"[*] gitdisc"}), d);
  EXPECT_EQ(OurBundleFromSource("[san 2] gitdisc/" + d + ".iso", {"[*] gitdisc"}), d);
  EXPECT_EQ(OurBundleFromSource("[LocalDS_0] isos/" + d + ".iso", {"[*] gitdisc"}), "");
  EXPECT_EQ(OurBundleFromSource("[LocalDS_0] other/gitdisc/" + d + ".iso", {"[*] gitdisc"}), "");
  EXPECT_EQ(OurBundleFromSource("/gitdisc/" + d + ".iso", {"[*] gitdisc"}), "");
}

TEST(Planner, OperationIdIsDeterministic) {
  std::string b(64, 'b');
  EXPECT_EQ(OperationId("k", b, {"a", "b"}, ""), OperationId("k", b, {"a", "b"}, ""));
  EXPECT_NE(OperationId("k", b, {"a", "b"}, ""), OperationId("k2", b, {"a", "b"}, ""));
  EXPECT_NE(OperationId("k", b, {"a", "b"}, ""), OperationId("k", b, {"a", "b"}, "op-1"));
  EXPECT_NE(OperationId("k", b, {"a", "b"}, ""), OperationId("k", b, {"a"}, ""));
  EXPECT_EQ(OperationId("k", b, {"a"}, "").size(), 3u + 16u);
}

}  // namespace
}  // namespace gitdisc::reconciler
