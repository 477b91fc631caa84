// Tests of FakeProvider: it must obey the same drive rules as the libvirt
// provider, record calls, inject faults, and carry a fake agent's bytes.
#include "tests/support/fake_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace gitdisc {
namespace {

using ::testing::ElementsAre;

TEST(FakeProvider, ListsVmsWithLabelsDrivesAndKeys) {
  FakeProvider p({"qemu:///system", "qemu+tcp://10.0.0.2/system"});
  std::string a = p.AddVm({.name = "web-1", .labels = {{"role", "web"}}, .cdroms = 2});
  std::string b = p.AddVm({.name = "db-1", .host = "qemu+tcp://10.0.0.2/system"});
  EXPECT_EQ(a, "qemu:///system/uuid-web-1");
  EXPECT_EQ(b, "qemu+tcp://10.0.0.2/system/uuid-db-1");
  auto vms = p.ListVms();
  ASSERT_TRUE(vms.ok());
  ASSERT_EQ(vms->size(), 2u);
  const VmInfo& web = (*vms)[0].name == "web-1" ? (*vms)[0] : (*vms)[1];
  EXPECT_EQ(web.labels.at("role"), "web");
  ASSERT_EQ(web.cdroms.size(), 2u);
  EXPECT_EQ(web.cdroms[0].target, "hdc");
  EXPECT_EQ(web.cdroms[1].target, "hdd");
  EXPECT_TRUE(web.has_agent_channel);
  EXPECT_THAT(p.calls(), ElementsAre("ListVms"));
}

TEST(FakeProvider, InsertOnlyIntoEmptyDriveEjectOnlyExpected) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  ASSERT_TRUE(p.InsertMedia(k, "hdc", "/c/a.iso").ok());
  EXPECT_TRUE(p.InsertMedia(k, "hdc", "/c/a.iso").ok());  // same image: idempotent
  Status busy = p.InsertMedia(k, "hdc", "/c/b.iso");
  EXPECT_TRUE(IsDriveBusy(busy)) << busy.ToString();
  EXPECT_TRUE(IsDriveBusy(p.EjectMedia(k, "hdc", "/c/b.iso", true)));
  EXPECT_EQ(p.Peek(k)->cdroms[0].source, "/c/a.iso");
  ASSERT_TRUE(p.EjectMedia(k, "hdc", "/c/a.iso", false).ok());
  EXPECT_EQ(p.Peek(k)->cdroms[0].source, "");
  EXPECT_TRUE(p.EjectMedia(k, "hdc", "/c/a.iso", false).ok());  // already empty
  EXPECT_EQ(p.InsertMedia(k, "hdz", "/c/a.iso").code(), Status::Code::kNotFound);
  EXPECT_THAT(p.calls(), ElementsAre("InsertMedia qemu:///system/uuid-vm hdc /c/a.iso",
                                     "InsertMedia qemu:///system/uuid-vm hdc /c/a.iso",
                                     "InsertMedia qemu:///system/uuid-vm hdc /c/b.iso",
                                     "EjectMedia qemu:///system/uuid-vm hdc /c/b.iso force=1",
                                     "EjectMedia qemu:///system/uuid-vm hdc /c/a.iso force=0",
                                     "EjectMedia qemu:///system/uuid-vm hdc /c/a.iso force=0",
                                     "InsertMedia qemu:///system/uuid-vm hdz /c/a.iso"));
}

TEST(FakeProvider, ForeignMediaIsNeverEjected) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  p.SetDriveSource(k, "hdc", "/home/user/installer.iso");
  EXPECT_TRUE(IsDriveBusy(p.InsertMedia(k, "hdc", "/c/a.iso")));
  EXPECT_TRUE(IsDriveBusy(p.EjectMedia(k, "hdc", "/c/a.iso", true)));
  EXPECT_EQ(p.Peek(k)->cdroms[0].source, "/home/user/installer.iso");
}

TEST(FakeProvider, LockedTrayTimesOutUnlessForced) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  p.SetTrayLocked(k, "hdc", true);
  ASSERT_TRUE(p.InsertMedia(k, "hdc", "/c/a.iso").ok());
  EXPECT_EQ(p.forced_inserts(), 1);
  EXPECT_EQ(p.EjectMedia(k, "hdc", "/c/a.iso", false).code(), Status::Code::kTimeout);
  EXPECT_EQ(p.Peek(k)->cdroms[0].source, "/c/a.iso");
  ASSERT_TRUE(p.EjectMedia(k, "hdc", "/c/a.iso", true).ok());
  EXPECT_EQ(p.forced_ejects(), 1);
}

TEST(FakeProvider, ScriptedFaultsFireInOrderAndChangeNothing) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  std::string other = p.AddVm({.name = "other"});
  p.FailNext(FakeProvider::Op::kInsertMedia, k, Status::Timeout("tray locked"), 2);
  EXPECT_TRUE(p.InsertMedia(other, "hdc", "/a").ok());  // other keys unaffected
  EXPECT_EQ(p.InsertMedia(k, "hdc", "/a").code(), Status::Code::kTimeout);
  EXPECT_EQ(p.InsertMedia(k, "hdc", "/a").code(), Status::Code::kTimeout);
  EXPECT_EQ(p.Peek(k)->cdroms[0].source, "");
  EXPECT_TRUE(p.InsertMedia(k, "hdc", "/a").ok());
  p.FailNext(FakeProvider::Op::kListVms, "", Status::Unavailable("host down"));
  EXPECT_EQ(p.ListVms().status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(p.ListVms().ok());
}

TEST(FakeProvider, VanishedVmIsNotFound) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  p.RemoveVm(k);
  EXPECT_EQ(p.GetVm(k).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(p.InsertMedia(k, "hdc", "/a").code(), Status::Code::kNotFound);
  EXPECT_EQ(p.EjectMedia(k, "hdc", "/a", false).code(), Status::Code::kNotFound);
  EXPECT_EQ(p.SetLabels(k, {{"a", "b"}}, {}).code(), Status::Code::kNotFound);
  EXPECT_EQ(p.OpenAgentChannel(k).status().code(), Status::Code::kNotFound);
}

TEST(FakeProvider, NotRunningRefusesInsertAndChannel) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm", .state = VmInfo::kShutoff});
  EXPECT_EQ(p.InsertMedia(k, "hdc", "/a").code(), Status::Code::kConflict);
  EXPECT_FALSE(IsDriveBusy(p.InsertMedia(k, "hdc", "/a")));
  EXPECT_EQ(p.OpenAgentChannel(k).status().code(), Status::Code::kConflict);
}

TEST(FakeProvider, LabelsSetAndRemove) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm", .labels = {{"a", "1"}, {"b", "2"}}});
  ASSERT_TRUE(p.SetLabels(k, {{"c", "3"}, {"a", "9"}}, {"b", "zz"}).ok());
  EXPECT_EQ(p.Peek(k)->labels, (std::map<std::string, std::string>{{"a", "9"}, {"c", "3"}}));
  EXPECT_EQ(p.SetLabels(k, {{"", "x"}}, {}).code(), Status::Code::kInvalid);
  EXPECT_THAT(p.calls(), ElementsAre("SetLabels qemu:///system/uuid-vm set=a=9,c=3 remove=b,zz",
                                     "SetLabels qemu:///system/uuid-vm set==x remove="));
}

TEST(FakeProvider, PrepareImageUploadsOncePerRemoteHost) {
  FakeProvider p({"qemu:///system", "qemu+ssh://h2/system"});
  auto local = p.PrepareImage("qemu:///system", "/cache/d1.iso", "d1");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, "/cache/d1.iso");
  auto r1 = p.PrepareImage("qemu+ssh://h2/system", "/cache/d1.iso", "d1");
  auto r2 = p.PrepareImage("qemu+ssh://h2/system", "/cache/d1.iso", "d1");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, "/var/lib/libvirt/gitdisc/d1.iso");
  EXPECT_EQ(p.uploads("qemu+ssh://h2/system"), 1);
  EXPECT_EQ(p.uploads("qemu:///system"), 0);
  EXPECT_EQ(p.PrepareImage("qemu+ssh://nope/system", "/x", "d").status().code(),
            Status::Code::kNotFound);
}

TEST(FakeProvider, RemoteUriRule) {
  EXPECT_FALSE(FakeProvider::IsRemoteUri("qemu:///system"));
  EXPECT_FALSE(FakeProvider::IsRemoteUri("qemu+unix:///system"));
  EXPECT_FALSE(FakeProvider::IsRemoteUri("test:///default"));
  EXPECT_TRUE(FakeProvider::IsRemoteUri("qemu+tcp://127.0.0.1/system"));
  EXPECT_TRUE(FakeProvider::IsRemoteUri("qemu+ssh://root@h/system"));
  EXPECT_TRUE(FakeProvider::IsRemoteUri("qemu://h/system"));
}

TEST(FakeProvider, AgentChannelCarriesBytesToTheFakeAgent) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  std::thread agent;
  p.SetAgentFactory([&](const std::string& key, std::unique_ptr<ByteStream> guest) {
    EXPECT_EQ(key, k);
    agent = std::thread([g = std::move(guest)] {
      char buf[64];
      auto n = g->Read(buf, sizeof buf, std::chrono::seconds(30));
      if (n.ok()) (void)g->Write("echo:" + std::string(buf, *n));
    });
  });
  auto s = p.OpenAgentChannel(k);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->Write("hi").ok());
  char buf[64];
  std::string got;
  while (got.size() < 7) {
    auto n = (*s)->Read(buf, sizeof buf, std::chrono::seconds(30));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_GT(*n, 0u);
    got.append(buf, *n);
  }
  EXPECT_EQ(got, "echo:hi");
  agent.join();
  EXPECT_EQ(p.open_channels(), 1);
}

TEST(FakeProvider, ChannelWithoutAgentTimesOut) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "vm"});
  auto s = p.OpenAgentChannel(k);
  ASSERT_TRUE(s.ok());
  char buf[8];
  EXPECT_EQ((*s)->Read(buf, sizeof buf, std::chrono::milliseconds(10)).status().code(),
            Status::Code::kTimeout);
}

TEST(FakeProvider, WatchReceivesEmittedEvents) {
  FakeProvider p;
  std::vector<std::string> got;
  ASSERT_TRUE(p.Watch([&](const std::string& key, EventKind kind) {
                 got.push_back(key + " " + EventKindName(kind));
               }).ok());
  p.EmitEvent("qemu:///system/u1", EventKind::kTrayChanged);
  EXPECT_THAT(got, ElementsAre("qemu:///system/u1 tray-changed"));
}

TEST(FakeProvider, HoldsTenThousandVms) {
  FakeProvider p;
  p.set_record_calls(false);
  for (int i = 0; i < 10000; ++i) {
    p.AddVm({.name = "vm-" + std::to_string(i), .labels = {{"role", i % 2 ? "web" : "db"}}});
  }
  auto vms = p.ListVms();
  ASSERT_TRUE(vms.ok());
  EXPECT_EQ(vms->size(), 10000u);
  EXPECT_TRUE(p.calls().empty());
}

TEST(FakeProvider, PrepareVmChangesTheDefinitionAndARestartBringsItUp) {
  FakeProvider p;
  std::string k = p.AddVm({.name = "bare", .cdroms = 0, .agent_channel = false});
  auto dry = p.PrepareVm(k, {.cdrom_bus = "", .dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_EQ(dry->added.size(), 2u);
  EXPECT_TRUE(dry->running);
  EXPECT_TRUE(dry->restart_needed);
  auto done = p.PrepareVm(k, {});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->added, dry->added);
  // The running view is unchanged until the VM is started again.
  EXPECT_FALSE(p.Peek(k)->has_agent_channel);
  auto again = p.PrepareVm(k, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->added.empty());  // idempotent
  EXPECT_TRUE(again->restart_needed);
  p.SetPowerState(k, VmInfo::kShutoff);
  p.SetPowerState(k, VmInfo::kRunning);
  VmInfo vm = *p.Peek(k);
  EXPECT_TRUE(vm.has_agent_channel);
  ASSERT_EQ(vm.cdroms.size(), 1u);
  EXPECT_EQ(vm.cdroms[0], (DriveInfo{"hda", "ide", "", false}));
  EXPECT_FALSE(p.PrepareVm(k, {})->restart_needed);
  EXPECT_THAT(p.calls(), ElementsAre("PrepareVm " + k + " bus= dry_run=1",
                                     "PrepareVm " + k + " bus= dry_run=0",
                                     "PrepareVm " + k + " bus= dry_run=0",
                                     "PrepareVm " + k + " bus= dry_run=0"));
}

TEST(FakeProvider, PrepareVmOfAShutOffVmShowsAtOnceAndTransientIsRefused) {
  FakeProvider p;
  std::string off = p.AddVm({.name = "off", .state = VmInfo::kShutoff, .agent_channel = false});
  auto r = p.PrepareVm(off, {.cdrom_bus = "sata"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->added.size(), 1u);  // the channel; hdc is an empty IDE drive already
  EXPECT_FALSE(r->restart_needed);
  EXPECT_TRUE(p.Peek(off)->has_agent_channel);
  std::string t = p.AddVm({.name = "transient", .persistent = false});
  EXPECT_EQ(p.PrepareVm(t, {}).status().code(), Status::Code::kConflict);
}

TEST(FakeProvider, PoolImagesAreListedAndDeletedUnlessInADrive) {
  const std::string remote = "qemu+tcp://10.0.0.2/system";
  FakeProvider p({"qemu:///system", remote});
  std::string k = p.AddVm({.name = "r", .host = remote});
  auto a = p.PrepareImage(remote, "/nonexistent/a.iso", "aa");
  auto b = p.PrepareImage(remote, "/nonexistent/b.iso", "bb");
  ASSERT_TRUE(a.ok() && b.ok());
  auto images = p.ListPoolImages(remote);
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0], (PoolImage{"aa", *a, 0, true}));
  ASSERT_TRUE(p.InsertMedia(k, "hdc", *a).ok());
  EXPECT_TRUE(IsDriveBusy(p.DeletePoolImage(remote, "aa")));
  EXPECT_TRUE(p.DeletePoolImage(remote, "bb").ok());
  EXPECT_TRUE(p.DeletePoolImage(remote, "bb").ok());  // already gone
  EXPECT_EQ(p.ListPoolImages(remote)->size(), 1u);
  EXPECT_TRUE(p.ListPoolImages("qemu:///system")->empty());
  EXPECT_EQ(p.ListPoolImages("qemu:///elsewhere").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace gitdisc
