#include "reconciler/fleet_status.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gitdisc::reconciler {
namespace {

FleetStatus Sample() {
  FleetStatus s;
  s.generated_unix = 1700000000;
  s.source.repo = "/srv/fleet.git";
  s.source.revision = "abc";
  s.source.last_valid_revision = "abc";
  VmStatus v;
  v.key = "qemu:///system/uuid-1";
  v.name = "web-1";
  v.host = "qemu:///system";
  v.power = "running";
  v.labels = {{"role", "web"}};
  v.sets = {"web-baseline"};
  v.condition = VmCondition::kDriveBusy;
  v.reason = "NoFreeDrive";
  v.message = "every CD-ROM drive holds media gitdisc did not insert";
  v.payloads = {{"motd", "2", std::string(64, 'a'), PayloadState::kPending, ""}};
  v.bundle_digest = std::string(64, 'b');
  s.vms.push_back(v);
  SetStatus set;
  set.name = "web-baseline";
  set.selected = {"web-1"};
  set.pending = 1;
  set.rollout = RolloutState::kHalted;
  set.message = "1 failure > maxFailures 0";
  s.sets.push_back(set);
  s.events.push_back({1700000001, "Warning", "vm/web-1", "DriveBusy", "no drive"});
  s.counters.applies_total["ok"] = 3;
  s.counters.reconciles_total = 9;
  s.iso_cache_bytes = 1234;
  s.events_total = 7;
  s.source.unverified_revision = "def";
  s.source.unverified_commit = "ced";
  s.source.unverified_reason = "unsigned: the commit carries no signature";
  return s;
}

TEST(FleetStatus, JsonRoundTripKeepsEveryField) {
  FleetStatus s = Sample();
  nlohmann::json j = ToJson(s);
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["vms"][0]["condition"], "DriveBusy");
  EXPECT_EQ(j["vms"][0]["payloads"][0]["state"], "pending");
  EXPECT_EQ(j["sets"][0]["rollout"], "Halted");
  EXPECT_EQ(j["converged"], false);
  auto back = FleetStatusFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
}

TEST(FleetStatus, RejectsOtherSchemaVersionAndBadEnums) {
  nlohmann::json j = ToJson(Sample());
  j["schemaVersion"] = 2;
  EXPECT_FALSE(FleetStatusFromJson(j).ok());
  j = ToJson(Sample());
  j["vms"][0]["condition"] = "Happy";
  auto r = FleetStatusFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Happy"), std::string::npos);
  j = ToJson(Sample());
  j["vms"][0]["name"] = 5;
  r = FleetStatusFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("status.vms[0].name"), std::string::npos);
}

TEST(FleetStatus, ConvergedIgnoresUnselectedVms) {
  FleetStatus s;
  VmStatus a;
  a.name = "a";
  a.condition = VmCondition::kReady;
  VmStatus b;
  b.name = "b";
  b.condition = VmCondition::kNotSelected;
  s.vms = {a, b};
  EXPECT_TRUE(s.Converged());
  s.vms[0].condition = VmCondition::kFailed;
  EXPECT_FALSE(s.Converged());
  auto counts = s.CountByCondition();
  EXPECT_EQ(counts["Failed"], 1);
  EXPECT_EQ(counts["NotSelected"], 1);
  EXPECT_EQ(counts["Ready"], 0);
}

TEST(EventLog, KeepsOnlyTheNewest) {
  EventLog log(2);
  log.Add({1, "Normal", "vm/a", "A", ""});
  log.Add({2, "Normal", "vm/a", "B", ""});
  log.Add({3, "Normal", "vm/a", "C", ""});
  uint64_t total = 0;
  auto snap = log.Snapshot(&total);
  EXPECT_EQ(total, 3u) << "every event ever added is counted";
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].reason, "B");
  EXPECT_EQ(snap[1].reason, "C");
}

TEST(FleetStatus, ConditionNamesParseBack) {
  for (VmCondition c : {VmCondition::kPending, VmCondition::kAgentUnavailable,
                        VmCondition::kConflict, VmCondition::kReady, VmCondition::kHalted}) {
    auto p = ParseVmCondition(VmConditionName(c));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, c);
  }
}

}  // namespace
}  // namespace gitdisc::reconciler
