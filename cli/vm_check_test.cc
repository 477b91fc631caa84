// `gitdisc vm check` / `vm prepare` over the recording FakeProvider: the
// report, the exit codes, the diff of devices, and what prepare asked of the
// provider.
#include "cli/vm_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/fake_provider.h"

namespace gitdisc::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

struct Ran {
  int rc;
  std::string out, err;
};

class VmCheckTest : public ::testing::Test {
 protected:
  VmCheckTest() {
    ready_ = fake_.AddVm({.name = "ready", .labels = {{"role", "web"}}});
    bare_ = fake_.AddVm({.name = "bare", .cdroms = 0, .agent_channel = false});
  }
  Ran Check(VmCheckArgs args, bool json = false) {
    std::ostringstream out, err;
    Io io{out, err, false};
    int rc = RunVmCheck(fake_, args, json, io);
    return {rc, out.str(), err.str()};
  }
  Ran Prepare(VmPrepareArgs args, bool json = false) {
    std::ostringstream out, err;
    Io io{out, err, false};
    int rc = RunVmPrepare(fake_, args, json, io);
    return {rc, out.str(), err.str()};
  }
  FakeProvider fake_;
  std::string ready_, bare_;
};

TEST_F(VmCheckTest, AManageableVmExitsZero) {
  Ran r = Check({.names = {"ready"}});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ready (qemu:///system, running): manageable"));
  EXPECT_THAT(r.out, HasSubstr("channel   org.gitdisc.agent.0"));
  EXPECT_THAT(r.out, HasSubstr("cdrom     hdc (ide, empty)"));
  EXPECT_THAT(r.out, HasSubstr("delivery  cdrom"));
  EXPECT_THAT(r.out, Not(HasSubstr("lacks")));
}

TEST_F(VmCheckTest, ABareVmLacksChannelAndDriveAndSaysHowToFixIt) {
  Ran r = Check({.all = true});
  EXPECT_EQ(r.rc, 1);
  EXPECT_THAT(r.out, HasSubstr("bare (qemu:///system, running): NOT manageable"));
  EXPECT_THAT(r.out, HasSubstr("lacks     the virtio-serial channel org.gitdisc.agent.0"));
  EXPECT_THAT(r.out, HasSubstr("lacks     a delivery method: a CD-ROM drive on a bus with a tray"));
  EXPECT_THAT(r.out, HasSubstr("fix       gitdisc vm prepare bare"));
  EXPECT_THAT(r.out, HasSubstr("note      no labels"));
  // check asks the definition with a dry run only.
  EXPECT_THAT(fake_.calls(), ::testing::Contains("PrepareVm " + bare_ + " bus= dry_run=1"));
  EXPECT_THAT(fake_.calls(), Not(::testing::Contains(HasSubstr("dry_run=0"))));
}

TEST_F(VmCheckTest, JsonHasEveryFact) {
  Ran r = Check({.names = {"bare", "ready"}}, true);
  EXPECT_EQ(r.rc, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schemaVersion"], 1);
  ASSERT_EQ(j["vms"].size(), 2u);
  const auto& bare = j["vms"][0];
  EXPECT_EQ(bare["name"], "bare");
  EXPECT_EQ(bare["manageable"], false);
  EXPECT_EQ(bare["channel"], false);
  EXPECT_EQ(bare["lacking"].size(), 2u);
  EXPECT_EQ(bare["prepareWouldAdd"].size(), 2u);
  const auto& ready = j["vms"][1];
  EXPECT_EQ(ready["manageable"], true);
  EXPECT_EQ(ready["usable"], nlohmann::json::array({"cdrom"}));
  EXPECT_EQ(ready["cdroms"][0]["tray"], true);
  EXPECT_EQ(ready["cdroms"][0]["free"], true);
}

TEST_F(VmCheckTest, UnknownVmAndBadArgumentsAreErrors) {
  EXPECT_EQ(Check({.names = {"nope"}}).rc, 2);
  EXPECT_THAT(Check({.names = {"nope"}}).err, HasSubstr("no VM named nope"));
  EXPECT_EQ(Check({}).rc, 2);
  EXPECT_EQ(Check({.names = {"ready"}, .all = true}).rc, 2);
  fake_.FailNext(FakeProvider::Op::kListVms, "", Status::Unavailable("libvirtd down"));
  EXPECT_EQ(Check({.all = true}).rc, 2);
}

TEST_F(VmCheckTest, PrepareShowsTheDiffSaysRestartAndIsIdempotent) {
  Ran dry = Prepare({.name = "bare", .options = {.cdrom_bus = "sata", .dry_run = true}});
  EXPECT_EQ(dry.rc, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("bare: would add to the persistent definition:\n+ <channel"));
  EXPECT_THAT(dry.out, HasSubstr("+ <disk type=\"file\" device=\"cdrom\">"));
  EXPECT_THAT(dry.out, HasSubstr("bus=\"sata\""));
  EXPECT_FALSE(fake_.Peek(bare_)->has_agent_channel);

  Ran done = Prepare({.name = "bare", .options = {.cdrom_bus = "sata"}});
  EXPECT_EQ(done.rc, 0);
  EXPECT_THAT(done.out, HasSubstr("bare: added to the persistent definition:"));
  EXPECT_THAT(done.out, HasSubstr("shut it down and start it again"));
  Ran again = Prepare({.name = "bare", .options = {.cdrom_bus = "sata"}});
  EXPECT_EQ(again.rc, 0);
  EXPECT_THAT(again.out, HasSubstr("has everything gitdisc needs"));
  EXPECT_THAT(again.out, HasSubstr("is running without them"));
  // check now says the restart is what is missing.
  EXPECT_THAT(Check({.names = {"bare"}}).out, HasSubstr("pending   the persistent definition"));

  fake_.SetPowerState(bare_, VmInfo::kShutoff);
  fake_.SetPowerState(bare_, VmInfo::kRunning);
  EXPECT_EQ(Check({.names = {"bare"}}).rc, 0);
  auto j = nlohmann::json::parse(Prepare({.name = "bare"}, true).out);
  EXPECT_EQ(j["added"].size(), 0u);
  EXPECT_EQ(j["restartNeeded"], false);
  EXPECT_THAT(fake_.calls(), ::testing::Contains("PrepareVm " + bare_ + " bus=sata dry_run=0"));
}

TEST_F(VmCheckTest, PrepareErrorsExitTwo) {
  std::string t = fake_.AddVm({.name = "transient", .persistent = false});
  Ran r = Prepare({.name = "transient"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("transient domain"));
  EXPECT_EQ(Prepare({.name = "nope"}).rc, 2);
}

}  // namespace
}  // namespace gitdisc::cli
