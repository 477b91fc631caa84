// The vSphere provider against govmomi's vCenter simulator (a child process
// per test, TLS on loopback): inventory and keys, labels in extraConfig,
// images uploaded once per datastore with their marker, CD-ROM backings
// checked through the simulator's own API, drive rules, the guestinfo
// mailbox answered by a fake guest running the real agent, TLS and login
// failures, and a simulator that dies or freezes mid-call.
#include "providers/vsphere_provider.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "base/file_util.h"
#include "base/sha256.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"
#include "providers/vsphere_uri.h"
#include "providers/vsphere_vim.h"
#include "tests/support/vcsim_process.h"
#include "tests/support/vsphere_fake_guest.h"

namespace gitdisc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test_support::VcsimOptions;
using test_support::VcsimProcess;
using SteadyClock = std::chrono::steady_clock;

// Asserts a Status is ok and prints it otherwise.
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    ::gitdisc::Status assert_ok_ = (expr);                  \
    ASSERT_TRUE(assert_ok_.ok()) << assert_ok_.ToString(); \
  } while (0)

constexpr char kVm0[] = "DC0_H0_VM0";
constexpr char kVm1[] = "DC0_H0_VM1";

VcsimOptions Sim() {
  VcsimOptions o;
  o.binary = GITDISC_VCSIM_BIN;
  return o;
}

class VsphereProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { StartSim(Sim()); }

  void StartSim(VcsimOptions o) {
    provider_.reset();
    sim_.reset();
    auto sim = VcsimProcess::Start(std::move(o));
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(*sim);
    auto p = VsphereProvider::Open(sim_->Uri(), Fast());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    provider_ = std::move(*p);
  }

  static VsphereProvider::Options Fast() {
    VsphereProvider::Options o;
    o.task_timeout = seconds(20);
    o.mailbox_min_poll = milliseconds(10);
    o.mailbox_max_poll = milliseconds(100);
    o.watch_wait = seconds(1);
    return o;
  }

  // The simulator's view, through a session of our own.
  std::unique_ptr<vsphere::VimClient> Raw() {
    vsphere::SoapOptions so;
    so.host = "127.0.0.1";
    so.port = std::stoi(sim_->address().substr(sim_->address().rfind(':') + 1));
    so.insecure = true;
    auto c = vsphere::VimClient::Connect(so, sim_->options().user, sim_->options().password);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  vsphere::VimVm RawVm(vsphere::VimClient& raw, const std::string& name) {
    auto dc = raw.FindDatacenter("DC0");
    EXPECT_TRUE(dc.ok());
    auto folder = raw.VmFolder(*dc);
    EXPECT_TRUE(folder.ok());
    auto vms = raw.ListVms(*folder);
    EXPECT_TRUE(vms.ok());
    for (const auto& v : *vms) {
      if (v.name == name) return v;
    }
    ADD_FAILURE() << "no VM " << name;
    return {};
  }

  VmInfo Find(const std::string& name) {
    auto vms = provider_->ListVms();
    EXPECT_TRUE(vms.ok()) << vms.status().ToString();
    if (vms.ok()) {
      for (const VmInfo& v : *vms) {
        if (v.name == name) return v;
      }
    }
    ADD_FAILURE() << "no VM " << name;
    return {};
  }

  // A bundle ISO in tmp_; returns its digest.
  std::string Bundle(const std::string& script = "echo hello\n") {
    std::string err;
    std::string d = guest::testing::WriteBundle({guest::testing::ScriptPayload("motd", script)},
                                                tmp_ / "bundle.iso", &err);
    EXPECT_FALSE(d.empty()) << err;
    return d;
  }

  guest::testing::TempDir tmp_;
  std::unique_ptr<VcsimProcess> sim_;
  std::unique_ptr<VsphereProvider> provider_;
};

TEST_F(VsphereProviderTest, ListsTheDatacentersVmsWithKeysDrivesAndPowerState) {
  auto vms = provider_->ListVms();
  ASSERT_TRUE(vms.ok()) << vms.status().ToString();
  ASSERT_GE(vms->size(), 4u);
  std::set<std::string> names;
  for (const VmInfo& v : *vms) {
    names.insert(v.name);
    EXPECT_EQ(v.host, sim_->Uri());
    EXPECT_EQ(v.key, sim_->Uri() + "/" + v.uuid);
    EXPECT_EQ(v.state, VmInfo::kRunning) << v.name;
    EXPECT_TRUE(v.has_agent_channel);
    ASSERT_EQ(v.cdroms.size(), 1u) << v.name;
    // The simulator's model puts its CD-ROM on the pvscsi controller.
    EXPECT_EQ(v.cdroms[0].target, "scsi0:0");
    EXPECT_EQ(v.cdroms[0].bus, "scsi");
    EXPECT_EQ(v.cdroms[0].source, "") << "the model's drives are empty";
  }
  EXPECT_TRUE(names.count(kVm0) && names.count(kVm1)) << ::testing::PrintToString(names);
  EXPECT_TRUE(std::is_sorted(vms->begin(), vms->end(),
                             [](const VmInfo& a, const VmInfo& b) { return a.key < b.key; }));
  auto one = provider_->GetVm(vms->front().key);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->name, vms->front().name);
  EXPECT_EQ(provider_->GetVm(sim_->Uri() + "/00000000-0000-0000-0000-000000000000").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(provider_->GetVm("qemu:///system/abc").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->Hosts(), std::vector<std::string>{sim_->Uri()});
}

TEST_F(VsphereProviderTest, APoweredOffVmIsShutoffAndRefusesMediaAndChannel) {
  VcsimOptions o = Sim();
  o.powered_off = {kVm1};
  StartSim(o);
  VmInfo off = Find(kVm1);
  EXPECT_EQ(off.state, VmInfo::kShutoff);
  std::string d = Bundle();
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(provider_->InsertMedia(off.key, "scsi0:0", *path).code(), Status::Code::kConflict);
  EXPECT_EQ(provider_->OpenAgentChannel(off.key).status().code(), Status::Code::kConflict);
}

TEST_F(VsphereProviderTest, LabelsRoundTripThroughExtraConfig) {
  VmInfo vm = Find(kVm0);
  ASSERT_OK(provider_->SetLabels(vm.key, {{"role", "web"}, {"env", "prod"}}, {}));
  EXPECT_EQ(Find(kVm0).labels, (std::map<std::string, std::string>{{"env", "prod"}, {"role", "web"}}));
  auto raw = Raw();
  ASSERT_TRUE(raw);
  EXPECT_EQ(RawVm(*raw, kVm0).Extra("gitdisc.label.role"), "web");
  ASSERT_OK(provider_->SetLabels(vm.key, {{"role", "db"}}, {"env", "never-set"}));
  auto again = provider_->GetVm(vm.key);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->labels, (std::map<std::string, std::string>{{"role", "db"}}));
  EXPECT_EQ(RawVm(*raw, kVm0).Extra("gitdisc.label.env"), std::nullopt);
  EXPECT_TRUE(Find(kVm1).labels.empty()) << "labels are per VM";
  EXPECT_EQ(provider_->SetLabels(vm.key, {{"k", ""}}, {}).code(), Status::Code::kInvalid);
  EXPECT_EQ(provider_->SetLabels(vm.key, {{"bad\nkey", "v"}}, {}).code(), Status::Code::kInvalid);
  const int before = provider_->stats().reconfigures;
  ASSERT_OK(provider_->SetLabels(vm.key, {{"role", "db"}}, {}));
  EXPECT_EQ(provider_->stats().reconfigures, before) << "nothing to change, no task";
}

TEST_F(VsphereProviderTest, UploadsOncePerDatastoreAndInsertsTheIsoBacking) {
  std::string d = Bundle();
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, "gitdisc/" + d + ".iso");
  VmInfo a = Find(kVm0), b = Find(kVm1);
  ASSERT_OK(provider_->InsertMedia(a.key, "scsi0:0", *path));
  EXPECT_EQ(provider_->stats().uploads, 1);
  const std::string on_ds = "[LocalDS_0] gitdisc/" + d + ".iso";
  EXPECT_EQ(Find(kVm0).cdroms[0].source, on_ds);
  // Idempotent, and the second VM on the same datastore uploads nothing.
  ASSERT_OK(provider_->InsertMedia(a.key, "scsi0:0", *path));
  ASSERT_OK(provider_->InsertMedia(b.key, "scsi0:0", *path));
  EXPECT_EQ(provider_->stats().uploads, 1);
  EXPECT_EQ(provider_->stats().reused_images, 1);

  auto raw = Raw();
  ASSERT_TRUE(raw);
  vsphere::VimVm rb = RawVm(*raw, kVm1);
  ASSERT_EQ(rb.cdroms.size(), 1u);
  EXPECT_EQ(rb.cdroms[0].backing_type, "VirtualCdromIsoBackingInfo");
  EXPECT_EQ(rb.cdroms[0].file_name, on_ds);
  EXPECT_TRUE(rb.cdroms[0].connected);
  EXPECT_TRUE(rb.cdroms[0].start_connected);
  // Byte for byte on the datastore, with its marker.
  ASSERT_OK(raw->Download("DC0", "LocalDS_0", "gitdisc/" + d + ".iso", tmp_ / "back.iso"));
  EXPECT_EQ(*ReadFile(tmp_ / "back.iso"), *ReadFile(tmp_ / "bundle.iso"));
  auto marker = raw->FileSize("DC0", "LocalDS_0", "gitdisc/" + d + ".iso.ok");
  ASSERT_TRUE(marker.ok());
  EXPECT_GT(*marker, 0);

  // A second provider (another gitdisc run) finds it there too.
  auto p2 = VsphereProvider::Open(sim_->Uri(), Fast());
  ASSERT_TRUE(p2.ok());
  ASSERT_TRUE((*p2)->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d).ok());
  ASSERT_OK((*p2)->EjectMedia(b.key, "scsi0:0", on_ds, false));
  ASSERT_OK((*p2)->InsertMedia(b.key, "scsi0:0", *path));
  EXPECT_EQ((*p2)->stats().uploads, 0);
  EXPECT_EQ((*p2)->stats().reused_images, 1);
}

TEST_F(VsphereProviderTest, AHalfUploadWithoutItsMarkerIsUploadedAgain) {
  std::string d = Bundle();
  auto raw = Raw();
  ASSERT_TRUE(raw);
  ASSERT_OK(raw->UploadData("DC0", "LocalDS_0", "gitdisc/" + d + ".iso", "half an ima"));
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  ASSERT_OK(provider_->InsertMedia(Find(kVm0).key, "scsi0:0", *path));
  EXPECT_EQ(provider_->stats().uploads, 1);
  ASSERT_OK(raw->Download("DC0", "LocalDS_0", "gitdisc/" + d + ".iso", tmp_ / "back.iso"));
  EXPECT_EQ(*ReadFile(tmp_ / "back.iso"), *ReadFile(tmp_ / "bundle.iso"));
}

TEST_F(VsphereProviderTest, EjectEmptiesAndDisconnectsOnlyOurDisc) {
  std::string d = Bundle();
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  VmInfo vm = Find(kVm0);
  ASSERT_OK(provider_->InsertMedia(vm.key, "scsi0:0", *path));
  const std::string ours = Find(kVm0).cdroms[0].source;
  EXPECT_TRUE(IsDriveBusy(provider_->InsertMedia(vm.key, "scsi0:0", "gitdisc/" + std::string(64, 'e') + ".iso")));
  Status wrong = provider_->EjectMedia(vm.key, "scsi0:0", "[LocalDS_0] other.iso", true);
  EXPECT_TRUE(IsDriveBusy(wrong)) << wrong.ToString();
  EXPECT_EQ(Find(kVm0).cdroms[0].source, ours) << "nothing ejected";
  ASSERT_OK(provider_->EjectMedia(vm.key, "scsi0:0", ours, false));
  auto raw = Raw();
  ASSERT_TRUE(raw);
  vsphere::VimVm r = RawVm(*raw, kVm0);
  EXPECT_NE(r.cdroms[0].backing_type, "VirtualCdromIsoBackingInfo");
  EXPECT_FALSE(r.cdroms[0].connected);
  EXPECT_EQ(Find(kVm0).cdroms[0].source, "");
  EXPECT_TRUE(provider_->EjectMedia(vm.key, "scsi0:0", ours, false).ok()) << "already empty";
  EXPECT_EQ(provider_->EjectMedia(vm.key, "sata3:9", ours, false).code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->InsertMedia(vm.key, "sata3:9", *path).code(), Status::Code::kNotFound);
}

TEST_F(VsphereProviderTest, ForeignMediaIsNeverTouched) {
  auto raw = Raw();
  ASSERT_TRUE(raw);
  vsphere::VimVm r = RawVm(*raw, kVm0);
  ASSERT_OK(raw->UploadData("DC0", "LocalDS_0", "isos/debian.iso", "someone else's"));
  vsphere::VmEdit edit;
  edit.cdrom = vsphere::VmEdit::Cdrom{r.cdroms[0], "[LocalDS_0] isos/debian.iso"};
  ASSERT_OK(raw->Reconfigure(r.ref, edit, "foreign", SteadyClock::now() + seconds(10)));
  VmInfo vm = Find(kVm0);
  EXPECT_EQ(vm.cdroms[0].source, "[LocalDS_0] isos/debian.iso");
  std::string d = Bundle();
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(IsDriveBusy(provider_->InsertMedia(vm.key, "scsi0:0", *path)));
  EXPECT_TRUE(IsDriveBusy(provider_->EjectMedia(vm.key, "scsi0:0", "[LocalDS_0] gitdisc/" + d + ".iso", true)));
  EXPECT_EQ(RawVm(*raw, kVm0).cdroms[0].file_name, "[LocalDS_0] isos/debian.iso");
  EXPECT_EQ(provider_->stats().uploads, 0) << "a busy drive gets no upload";
}

TEST_F(VsphereProviderTest, TheAgentAnswersThroughTheGuestinfoMailbox) {
  std::string out = tmp_ / "effect";
  std::string d = Bundle("echo \"applied $GITDISC_PAYLOAD\" > " + out + "\n");
  auto guest = test_support::VsphereFakeGuest::Start(sim_->Uri(), kVm0, tmp_ / "guest");
  ASSERT_TRUE(guest.ok()) << guest.status().ToString();
  VmInfo vm = Find(kVm0);
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  ASSERT_OK(provider_->InsertMedia(vm.key, "scsi0:0", *path));
  auto channel = provider_->OpenAgentChannel(vm.key);
  ASSERT_TRUE(channel.ok()) << channel.status().ToString();
  guest::AgentClient client(std::move(*channel));
  auto hello = client.Hello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  ASSERT_TRUE(client.Apply("op-vs", d, {"motd"}).ok());
  auto done = client.WaitForDone("op-vs", SteadyClock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->results.size(), 1u);
  EXPECT_EQ(done->results[0].result, guest::Outcome::kOk);
  EXPECT_TRUE(done->disc_released);
  EXPECT_EQ(*ReadFile(out), "applied motd\n");
  EXPECT_EQ((*guest)->discs_seen(), 1);
  // The request and reply really travelled through the VM's extraConfig.
  auto raw = Raw();
  ASSERT_TRUE(raw);
  vsphere::VimVm r = RawVm(*raw, kVm0);
  EXPECT_EQ(r.Extra("guestinfo.gitdisc.request").value_or("").rfind("gdm1 ", 0), 0u);
  EXPECT_EQ(r.Extra("guestinfo.gitdisc.reply").value_or("").rfind("gdm1 ", 0), 0u);
  // A second channel takes over (a new session); the ledger is still there.
  auto second = provider_->OpenAgentChannel(vm.key);
  ASSERT_TRUE(second.ok());
  guest::AgentClient c2(std::move(*second));
  auto ledger = c2.Ledger();
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  EXPECT_EQ(ledger->size(), 1u);
}

TEST_F(VsphereProviderTest, AChannelWithNoAgentTimesOutCleanly) {
  auto channel = provider_->OpenAgentChannel(Find(kVm1).key);
  ASSERT_TRUE(channel.ok());
  ASSERT_TRUE((*channel)->Write("{\"type\":\"hello\",\"id\":1,\"protocol\":1,\"client\":\"t\"}\n").ok());
  char buf[16];
  auto t0 = SteadyClock::now();
  EXPECT_EQ((*channel)->Read(buf, sizeof buf, milliseconds(500)).status().code(),
            Status::Code::kTimeout);
  EXPECT_LT(SteadyClock::now() - t0, seconds(5));
}

TEST_F(VsphereProviderTest, TlsIsVerifiedAgainstTheGivenCa) {
  auto verified = VsphereProvider::Open(sim_->VerifiedUri(), Fast());
  EXPECT_TRUE(verified.ok()) << verified.status().ToString();
  std::string no_ca = "vsphere://gitdisc@" + sim_->address() + "/DC0?passwordFile=" +
                      sim_->password_file();
  auto refused = VsphereProvider::Open(no_ca, Fast());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermission) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("caFile"), std::string::npos);
}

TEST_F(VsphereProviderTest, AWrongPasswordIsPermissionAndNeverShowsAnyPassword) {
  ASSERT_TRUE(WriteFileAtomic(tmp_ / "wrong", "Wr0ng-Secret-Value\n", 0600).ok());
  auto r = VsphereProvider::Open("vsphere://gitdisc@" + sim_->address() +
                                     "/DC0?insecure=1&passwordFile=" + (tmp_ / "wrong"),
                                 Fast());
  ASSERT_EQ(r.status().code(), Status::Code::kPermission) << r.status().ToString();
  EXPECT_NE(r.status().message().find("Login"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("Wr0ng-Secret-Value"), std::string::npos);
  EXPECT_EQ(r.status().message().find(sim_->options().password), std::string::npos);
  auto in_uri = VsphereProvider::Open("vsphere://gitdisc:Inline-Secret@" + sim_->address() +
                                      "/DC0?insecure=1&passwordFile=" + (tmp_ / "wrong"));
  EXPECT_EQ(in_uri.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(in_uri.status().message().find("Inline-Secret"), std::string::npos)
      << in_uri.status().message();
  auto dc = VsphereProvider::Open(sim_->Uri().replace(sim_->Uri().find("/DC0"), 4, "/NoSuchDC"));
  EXPECT_EQ(dc.status().code(), Status::Code::kNotFound) << dc.status().ToString();
}

TEST_F(VsphereProviderTest, ASimulatorKilledMidTaskIsAnErrorNotAHang) {
  VcsimOptions o = Sim();
  o.delays = {"ReconfigVM_Task=4000"};
  StartSim(o);
  VmInfo vm = Find(kVm0);
  auto t0 = SteadyClock::now();
  std::thread killer([&] {
    std::this_thread::sleep_for(milliseconds(800));
    sim_->Kill();
  });
  Status s = provider_->SetLabels(vm.key, {{"role", "web"}}, {});
  killer.join();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_LT(SteadyClock::now() - t0, seconds(10));
  EXPECT_EQ(provider_->ListVms().status().code(), Status::Code::kUnavailable);
}

TEST_F(VsphereProviderTest, AFrozenSimulatorTimesOutAtTheCallDeadline) {
  VsphereProvider::Options o = Fast();
  o.call_timeout = seconds(2);
  auto p = VsphereProvider::Open(sim_->Uri(), o);
  ASSERT_TRUE(p.ok());
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok());
  sim_->Stop();
  auto t0 = SteadyClock::now();
  Status s = (*p)->SetLabels(vms->front().key, {{"role", "web"}}, {});
  EXPECT_EQ(s.code(), Status::Code::kTimeout) << s.ToString();
  EXPECT_LT(SteadyClock::now() - t0, seconds(8));
  sim_->Continue();
}

TEST_F(VsphereProviderTest, WatchReportsMediaChangesButNotMailboxTraffic) {
  std::mutex mu;
  std::vector<std::pair<std::string, EventKind>> events;
  ASSERT_OK(provider_->Watch([&](const std::string& key, EventKind kind) {
    std::lock_guard<std::mutex> l(mu);
    events.emplace_back(key, kind);
  }));
  std::this_thread::sleep_for(milliseconds(1500));  // the first answer is the baseline
  VmInfo vm = Find(kVm0);
  // Mailbox traffic changes extraConfig only: no event for it.
  auto channel = provider_->OpenAgentChannel(vm.key);
  ASSERT_TRUE(channel.ok());
  ASSERT_OK((*channel)->Write("{}\n"));
  std::string d = Bundle();
  auto path = provider_->PrepareImage(sim_->Uri(), tmp_ / "bundle.iso", d);
  ASSERT_TRUE(path.ok());
  ASSERT_OK(provider_->InsertMedia(vm.key, "scsi0:0", *path));
  auto deadline = SteadyClock::now() + seconds(10);
  bool disk = false;
  while (!disk && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [k, kind] : events) disk |= kind == EventKind::kDiskChanged && k == vm.key;
  }
  EXPECT_TRUE(disk);
  std::lock_guard<std::mutex> l(mu);
  for (const auto& [k, kind] : events) {
    EXPECT_NE(kind, EventKind::kMetadata) << k;
    EXPECT_EQ(k, vm.key) << EventKindName(kind);
  }
}

TEST_F(VsphereProviderTest, WatchReportsTheHostLostWhenTheSimulatorDies) {
  std::mutex mu;
  std::vector<std::pair<std::string, EventKind>> events;
  ASSERT_TRUE(provider_->Watch([&](const std::string& key, EventKind kind) {
                          std::lock_guard<std::mutex> l(mu);
                          events.emplace_back(key, kind);
                        }).ok());
  std::this_thread::sleep_for(milliseconds(500));
  sim_->Kill();
  auto deadline = SteadyClock::now() + seconds(15);
  bool lost = false;
  while (!lost && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(100));
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [k, kind] : events) lost |= kind == EventKind::kHostLost && k == sim_->Uri();
  }
  EXPECT_TRUE(lost);
  auto t0 = SteadyClock::now();
  provider_.reset();  // the watcher thread stops promptly
  EXPECT_LT(SteadyClock::now() - t0, seconds(5));
}

}  // namespace
}  // namespace gitdisc
