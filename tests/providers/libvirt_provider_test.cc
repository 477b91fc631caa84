// LibvirtProvider against the real libvirtd and real QEMU (TCG) domains.
// Domains have no OS (SeaBIOS idles): enough for inventory, labels, media,
// events and the channel. Every test makes its own uniquely named domains and
// removes them (TestDomain RAII).
#include "providers/libvirt_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "providers/manageability.h"
#include "tests/support/tcp_proxy.h"
#include "tests/support/test_domain.h"

namespace gitdisc {
namespace {

using test_support::TestDomain;
using test_support::TestDomainOptions;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUri[] = "qemu:///system";

class LibvirtProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(test_support::EnsureLibvirtd().ok());
    (void)test_support::ReapLeftoverTestDomains(kUri);
    auto p = LibvirtProvider::Open({kUri});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    provider_ = std::move(p).value();
  }

  std::unique_ptr<TestDomain> MakeDomain(TestDomainOptions o) {
    auto td = TestDomain::Create(o);
    EXPECT_TRUE(td.ok()) << td.status().ToString();
    return td.ok() ? std::move(td).value() : nullptr;
  }

  std::unique_ptr<LibvirtProvider> provider_;
};

// Deletes a test's pool volumes (image and marker) whatever the outcome.
struct VolumeCleanup {
  std::string digest;
  ~VolumeCleanup() {
    for (const char* suffix : {".iso", ".iso.ok"}) {
      std::string cmd = "virsh -q -c qemu:///system vol-delete --pool gitdisc " + digest + suffix +
                        " >/dev/null 2>&1";
      (void)std::system(cmd.c_str());
    }
  }
};

std::string Image(const TestDomain& td, const std::string& name, char fill) {
  auto p = td.WriteWorkFile(name, std::string(64 * 1024, fill));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : "";
}

TEST_F(LibvirtProviderTest, ListsVmsWithLabelsDrivesChannelAndState) {
  auto td = MakeDomain({.name_hint = "list", .cdrom_count = 2, .labels = {{"role", "web"}}});
  ASSERT_TRUE(td);
  auto vms = provider_->ListVms();
  ASSERT_TRUE(vms.ok()) << vms.status().ToString();
  const VmInfo* found = nullptr;
  for (const VmInfo& vm : *vms) {
    if (vm.key == td->key()) found = &vm;
  }
  ASSERT_NE(found, nullptr) << td->key() << " not listed";
  EXPECT_EQ(found->name, td->name());
  EXPECT_EQ(found->uuid, td->uuid());
  EXPECT_EQ(found->host, kUri);
  EXPECT_EQ(found->state, VmInfo::kRunning);
  EXPECT_EQ(found->labels, (std::map<std::string, std::string>{{"role", "web"}}));
  ASSERT_EQ(found->cdroms.size(), 2u);
  EXPECT_EQ(found->cdroms[0], (DriveInfo{"hdc", "ide", "", false}));
  EXPECT_EQ(found->cdroms[1].target, "hdd");
  EXPECT_TRUE(found->has_agent_channel);

  auto one = provider_->GetVm(td->key());
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->name, td->name());
}

TEST_F(LibvirtProviderTest, LabelsRoundTripAndSurviveRestartOfPersistentDomain) {
  auto td = MakeDomain({.name_hint = "labels", .persistent = true});
  ASSERT_TRUE(td);
  ASSERT_TRUE(provider_->SetLabels(td->key(), {{"role", "web"}, {"env", "prod"}}, {}).ok());
  auto vm = provider_->GetVm(td->key());
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->labels, (std::map<std::string, std::string>{{"env", "prod"}, {"role", "web"}}));
  // Stored exactly as DESIGN.md §3 shows, in the live and the persistent XML.
  for (bool inactive : {false, true}) {
    auto xml = td->XmlDesc(inactive);
    ASSERT_TRUE(xml.ok());
    EXPECT_THAT(*xml, HasSubstr("<g:labels xmlns:g=\"urn:gitdisc:labels:1\">"));
    EXPECT_THAT(*xml, HasSubstr("<g:label key=\"role\" value=\"web\"/>"));
  }
  Status s = provider_->SetLabels(td->key(), {{"tier", "a&b"}}, {"env", "absent"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(td->Destroy().ok());
  auto off = provider_->GetVm(td->key());
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->state, VmInfo::kShutoff);
  EXPECT_EQ(off->labels, (std::map<std::string, std::string>{{"role", "web"}, {"tier", "a&b"}}));
  ASSERT_TRUE(td->Start().ok());
  auto again = provider_->GetVm(td->key());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, VmInfo::kRunning);
  EXPECT_EQ(again->labels, (std::map<std::string, std::string>{{"role", "web"}, {"tier", "a&b"}}));
  // Removing every label removes the element.
  ASSERT_TRUE(provider_->SetLabels(td->key(), {}, {"role", "tier"}).ok());
  EXPECT_TRUE(provider_->GetVm(td->key())->labels.empty());
  EXPECT_THAT(*td->XmlDesc(true), Not(HasSubstr("urn:gitdisc:labels:1")));
  EXPECT_EQ(provider_->SetLabels(td->key(), {{"", "x"}}, {}).code(), Status::Code::kInvalid);
}

TEST_F(LibvirtProviderTest, MediaRules) {
  TestDomainOptions o{.name_hint = "media", .cdrom_count = 2};
  // hdd holds someone else's disc from the start.
  auto holder = MakeDomain({.name_hint = "files", .persistent = true, .start = false});
  ASSERT_TRUE(holder);
  std::string foreign = Image(*holder, "foreign.iso", 'f');
  o.cdrom_sources = {"", foreign};
  auto td = MakeDomain(o);
  ASSERT_TRUE(td);
  std::string a = Image(*td, "a.iso", 'a');
  std::string b = Image(*td, "b.iso", 'b');

  auto prepared = provider_->PrepareImage(kUri, a, "aa");
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(*prepared, a);  // local delivery: the path itself

  // Insert into the empty drive; the domain XML shows it.
  Status s = provider_->InsertMedia(td->key(), "hdc", a);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(*td->XmlDesc(), HasSubstr("<source file='" + a + "'"));
  EXPECT_EQ(provider_->GetVm(td->key())->FindDrive("hdc")->source, a);
  EXPECT_TRUE(provider_->InsertMedia(td->key(), "hdc", a).ok());  // idempotent

  // A busy drive is never replaced, ours or foreign.
  EXPECT_TRUE(IsDriveBusy(provider_->InsertMedia(td->key(), "hdc", b)));
  EXPECT_TRUE(IsDriveBusy(provider_->InsertMedia(td->key(), "hdd", a)));
  // Foreign media is never ejected, not even with force.
  EXPECT_TRUE(IsDriveBusy(provider_->EjectMedia(td->key(), "hdd", a, false)));
  EXPECT_TRUE(IsDriveBusy(provider_->EjectMedia(td->key(), "hdd", a, true)));
  EXPECT_EQ(provider_->GetVm(td->key())->FindDrive("hdd")->source, foreign);
  EXPECT_EQ(provider_->InsertMedia(td->key(), "hdz", a).code(), Status::Code::kNotFound);

  // Eject ours (non-forced), then again (already empty: fine).
  s = provider_->EjectMedia(td->key(), "hdc", a, false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(provider_->GetVm(td->key())->FindDrive("hdc")->source, "");
  EXPECT_THAT(*td->XmlDesc(), Not(HasSubstr("<source file='" + a + "'")));
  EXPECT_TRUE(provider_->EjectMedia(td->key(), "hdc", a, false).ok());

  // The force path.
  ASSERT_TRUE(provider_->InsertMedia(td->key(), "hdc", b).ok());
  s = provider_->EjectMedia(td->key(), "hdc", b, true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(provider_->GetVm(td->key())->FindDrive("hdc")->source, "");
  EXPECT_EQ(provider_->stats().forced_ejects, 1);
  // Media went in live only: the persistent definition never holds our disc.
}

TEST_F(LibvirtProviderTest, NotRunningVmRefusesInsertAndChannel) {
  auto td = MakeDomain({.name_hint = "off", .persistent = true, .start = false});
  ASSERT_TRUE(td);
  auto vm = provider_->GetVm(td->key());
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->state, VmInfo::kShutoff);
  std::string a = Image(*td, "a.iso", 'a');
  Status s = provider_->InsertMedia(td->key(), "hdc", a);
  EXPECT_EQ(s.code(), Status::Code::kConflict) << s.ToString();
  EXPECT_FALSE(IsDriveBusy(s));
  EXPECT_EQ(provider_->OpenAgentChannel(td->key()).status().code(), Status::Code::kConflict);
  EXPECT_TRUE(provider_->EjectMedia(td->key(), "hdc", a, false).ok());  // empty: nothing to do
}

TEST_F(LibvirtProviderTest, VanishedVmIsNotFound) {
  auto td = MakeDomain({.name_hint = "vanish", .persistent = true});
  ASSERT_TRUE(td);
  std::string key = td->key();
  std::string a = Image(*td, "a.iso", 'a');
  ASSERT_TRUE(provider_->GetVm(key).ok());
  ASSERT_TRUE(td->Destroy().ok());
  ASSERT_TRUE(td->Undefine().ok());
  EXPECT_EQ(provider_->GetVm(key).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->InsertMedia(key, "hdc", a).code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->EjectMedia(key, "hdc", a, true).code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->SetLabels(key, {{"a", "b"}}, {}).code(), Status::Code::kNotFound);
  EXPECT_EQ(provider_->OpenAgentChannel(key).status().code(), Status::Code::kNotFound);
  auto vms = provider_->ListVms();
  ASSERT_TRUE(vms.ok());
  for (const VmInfo& vm : *vms) EXPECT_NE(vm.key, key);
  EXPECT_EQ(provider_->GetVm("qemu:///nowhere/" + td->uuid()).status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(provider_->GetVm("garbage").status().code(), Status::Code::kInvalid);
}

TEST_F(LibvirtProviderTest, AgentChannelOpensAndReadTimesOutWithoutAgent) {
  auto td = MakeDomain({.name_hint = "chan"});
  ASSERT_TRUE(td);
  auto s = provider_->OpenAgentChannel(td->key());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  char buf[64];
  auto r = (*s)->Read(buf, sizeof buf, std::chrono::milliseconds(300));
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout) << r.status().ToString();
  // The channel is exclusive; a second open takes it over (FORCE), as a
  // restarted controller must be able to.
  auto s2 = provider_->OpenAgentChannel(td->key());
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  auto r2 = (*s2)->Read(buf, sizeof buf, std::chrono::milliseconds(300));
  EXPECT_EQ(r2.status().code(), Status::Code::kTimeout) << r2.status().ToString();
  (*s2)->Close();
  (*s2)->Close();  // idempotent
  EXPECT_FALSE((*s2)->Write("x").ok());
  // A domain without the channel.
  auto bare = MakeDomain({.name_hint = "nochan", .agent_channel = false});
  ASSERT_TRUE(bare);
  EXPECT_EQ(provider_->OpenAgentChannel(bare->key()).status().code(), Status::Code::kNotFound);
}

// Collects events for the test to wait on.
class EventLog {
 public:
  void Add(const std::string& key, EventKind kind) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back({key, kind});
    cv_.notify_all();
  }
  // Waits (generously: the machine is slow and shared) for an event.
  bool WaitFor(const std::string& key, EventKind kind) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] {
      for (const auto& e : events_) {
        if (e.first == key && e.second == kind) return true;
      }
      return false;
    });
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    events_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, EventKind>> events_;
};

TEST_F(LibvirtProviderTest, EventsForStartStopTrayAndMetadata) {
  EventLog log;
  ASSERT_TRUE(
      provider_->Watch([&](const std::string& key, EventKind kind) { log.Add(key, kind); }).ok());
  auto td = MakeDomain({.name_hint = "events", .persistent = true});
  ASSERT_TRUE(td);
  EXPECT_TRUE(log.WaitFor(td->key(), EventKind::kLifecycle));  // defined + started

  std::string a = Image(*td, "a.iso", 'a');
  log.Clear();
  Status s = provider_->InsertMedia(td->key(), "hdc", a);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(log.WaitFor(td->key(), EventKind::kTrayChanged));
  log.Clear();
  s = provider_->EjectMedia(td->key(), "hdc", a, false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(log.WaitFor(td->key(), EventKind::kTrayChanged));

  log.Clear();
  ASSERT_TRUE(provider_->SetLabels(td->key(), {{"role", "web"}}, {}).ok());
  EXPECT_TRUE(log.WaitFor(td->key(), EventKind::kMetadata));

  log.Clear();
  ASSERT_TRUE(td->Destroy().ok());
  EXPECT_TRUE(log.WaitFor(td->key(), EventKind::kLifecycle));  // stopped
}

TEST_F(LibvirtProviderTest, SeveralConnectionsAndKeysNameTheirHost) {
  auto proxy = test_support::TcpToUnixProxy::Start();
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  std::string tcp = (*proxy)->LibvirtUri();
  auto p = LibvirtProvider::Open({kUri, tcp});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto td = MakeDomain({.name_hint = "twohosts"});
  ASSERT_TRUE(td);
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok()) << vms.status().ToString();
  int seen = 0;
  for (const VmInfo& vm : *vms) {
    if (vm.uuid != td->uuid()) continue;
    ++seen;
    EXPECT_TRUE(vm.host == kUri || vm.host == tcp) << vm.host;
    EXPECT_EQ(vm.key, vm.host + "/" + vm.uuid);
  }
  EXPECT_EQ(seen, 2);  // the same libvirtd reached two ways: two keys
  EXPECT_THAT((*p)->Hosts(), ::testing::ElementsAre(kUri, tcp));
  EXPECT_FALSE(LibvirtProvider::Open({"qemu+tcp://127.0.0.1:1/system"}).ok());
}

TEST_F(LibvirtProviderTest, LostConnectionIsReportedAndReopened) {
  auto proxy = test_support::TcpToUnixProxy::Start();
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  std::string tcp = (*proxy)->LibvirtUri();
  auto opened = LibvirtProvider::Open({tcp});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& remote = *opened;
  EventLog log;
  ASSERT_TRUE(
      remote->Watch([&](const std::string& key, EventKind kind) { log.Add(key, kind); }).ok());
  auto td = MakeDomain({.name_hint = "reconnect", .persistent = true});
  ASSERT_TRUE(td);
  std::string key = tcp + "/" + td->uuid();
  ASSERT_TRUE(remote->GetVm(key).ok());

  (*proxy)->DropConnections();  // the link to the host breaks
  EXPECT_TRUE(log.WaitFor(tcp, EventKind::kHostLost));
  // The next calls reopen the connection (the first may still see the
  // broken one and report kUnavailable).
  Result<VmInfo> vm = remote->GetVm(key);
  if (!vm.ok()) {
    EXPECT_EQ(vm.status().code(), Status::Code::kUnavailable) << vm.status().ToString();
    vm = remote->GetVm(key);
  }
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  EXPECT_EQ(vm->name, td->name());
  EXPECT_GE(remote->stats().reconnects, 1);
  EXPECT_GE((*proxy)->connections(), 2);
  // Events flow again on the new connection.
  log.Clear();
  ASSERT_TRUE(td->Destroy().ok());
  EXPECT_TRUE(log.WaitFor(key, EventKind::kLifecycle));
}

// The remote delivery path for real: libvirt's remote protocol over TCP on
// 127.0.0.1 (through a loopback proxy to the running libvirtd), the
// `gitdisc` pool, one upload, reuse, and a domain using the volume.
TEST_F(LibvirtProviderTest, RemoteUploadsOnceIntoGitdiscPoolAndVolumeIsUsable) {
  auto proxy = test_support::TcpToUnixProxy::Start();
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  std::string tcp = (*proxy)->LibvirtUri();
  auto opened = LibvirtProvider::Open({tcp});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& remote = *opened;
  auto td = MakeDomain({.name_hint = "remote"});
  ASSERT_TRUE(td);
  // Unique content and digest per run, so parallel runs never share a volume.
  std::string digest = "00" + td->uuid().substr(0, 8) + td->uuid().substr(9, 4);
  std::string content(3 * 1024 * 1024 + 123, 'z');
  for (size_t i = 0; i < content.size(); i += 4096) content[i] = static_cast<char>(i / 4096);
  auto local = td->WriteWorkFile("bundle.iso", content);
  ASSERT_TRUE(local.ok());
  // This run's volumes go away whatever the outcome.
  VolumeCleanup cleanup{digest};

  auto path = remote->PrepareImage(tcp, *local, digest);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(remote->stats().uploads, 1);
  EXPECT_THAT(*path, HasSubstr(digest + ".iso"));
  EXPECT_NE(*path, *local);
  // The host-side file holds exactly the bytes (same machine here).
  FILE* f = std::fopen(path->c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string got(content.size() + 1, '\0');
  size_t n = std::fread(got.data(), 1, got.size(), f);
  std::fclose(f);
  got.resize(n);
  EXPECT_TRUE(got == content) << "uploaded volume differs from the image (" << n << " bytes)";

  auto again = remote->PrepareImage(tcp, *local, digest);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *path);
  EXPECT_EQ(remote->stats().uploads, 1);  // reused, not uploaded again
  EXPECT_EQ(remote->stats().reused_volumes, 1);

  // The volume is usable by a domain on that connection.
  std::string key = tcp + "/" + td->uuid();
  Status s = remote->InsertMedia(key, "hdc", *path);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(*td->XmlDesc(), HasSubstr("<source file='" + *path + "'"));
  s = remote->EjectMedia(key, "hdc", *path, false);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// `gitdisc vm prepare` on a real definition: a domain without channel and
// CD-ROM gets both in its persistent definition (libvirt adds the SATA
// controller the drive needs), the running instance only after a restart.
TEST_F(LibvirtProviderTest, PrepareVmAddsChannelAndCdromToThePersistentDefinition) {
  auto td = MakeDomain(
      {.name_hint = "prepare", .persistent = true, .cdrom_count = 0, .agent_channel = false});
  ASSERT_TRUE(td);
  auto vm = provider_->GetVm(td->key());
  ASSERT_TRUE(vm.ok());
  EXPECT_FALSE(AssessVm(*vm).manageable());

  auto dry = provider_->PrepareVm(td->key(), {.cdrom_bus = "sata", .dry_run = true});
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  ASSERT_EQ(dry->added.size(), 2u);
  EXPECT_TRUE(dry->running);
  EXPECT_TRUE(dry->restart_needed);
  EXPECT_THAT(*td->XmlDesc(true), Not(HasSubstr(kAgentChannelName)));  // dry: unchanged

  auto done = provider_->PrepareVm(td->key(), {.cdrom_bus = "sata"});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->added, dry->added);
  std::string def = *td->XmlDesc(true);
  EXPECT_THAT(def, HasSubstr(kAgentChannelName));
  EXPECT_THAT(def, HasSubstr("bus='sata'"));
  EXPECT_THAT(def, HasSubstr("<controller type='sata'"));
  EXPECT_THAT(*td->XmlDesc(), Not(HasSubstr(kAgentChannelName)));  // live: untouched
  auto again = provider_->PrepareVm(td->key(), {.cdrom_bus = "sata"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->added.empty());  // idempotent
  EXPECT_TRUE(again->restart_needed);

  ASSERT_TRUE(td->Destroy().ok());
  ASSERT_TRUE(td->Start().ok());
  vm = provider_->GetVm(td->key());
  ASSERT_TRUE(vm.ok());
  EXPECT_TRUE(vm->has_agent_channel);
  ASSERT_EQ(vm->cdroms.size(), 1u);
  EXPECT_EQ(vm->cdroms[0].bus, "sata");
  EXPECT_TRUE(AssessVm(*vm).manageable());
  auto after = provider_->PrepareVm(td->key(), {});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->added.empty());
  EXPECT_FALSE(after->restart_needed);
  // The drive takes a disc like any other.
  std::string a = Image(*td, "a.iso", 'a');
  Status s = provider_->InsertMedia(td->key(), vm->cdroms[0].target, a);
  EXPECT_TRUE(s.ok()) << s.ToString();

  auto transient = MakeDomain({.name_hint = "transient", .agent_channel = false});
  ASSERT_TRUE(transient);
  EXPECT_EQ(provider_->PrepareVm(transient->key(), {}).status().code(), Status::Code::kConflict);
  EXPECT_EQ(provider_->PrepareVm(td->key(), {.cdrom_bus = "virtio"}).status().code(),
            Status::Code::kInvalid);
}

// Pool images over a remote connection: listed with their marker, refused
// while in a drive, deleted with their marker otherwise.
TEST_F(LibvirtProviderTest, PoolImagesAreListedAndDeletedUnlessInADrive) {
  auto proxy = test_support::TcpToUnixProxy::Start();
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  std::string tcp = (*proxy)->LibvirtUri();
  auto opened = LibvirtProvider::Open({kUri, tcp});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& p = *opened;
  auto td = MakeDomain({.name_hint = "poolgc"});
  ASSERT_TRUE(td);
  std::string digest = "01" + td->uuid().substr(0, 8) + td->uuid().substr(9, 4);
  VolumeCleanup cleanup{digest};
  auto local = td->WriteWorkFile("bundle.iso", std::string(70000, 'p'));
  ASSERT_TRUE(local.ok());
  auto path = p->PrepareImage(tcp, *local, digest);
  ASSERT_TRUE(path.ok()) << path.status().ToString();

  auto images = p->ListPoolImages(tcp);
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  const PoolImage* mine = nullptr;
  for (const PoolImage& img : *images) {
    if (img.digest == digest) mine = &img;
  }
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->path, *path);
  EXPECT_EQ(mine->bytes, 70000u);
  EXPECT_TRUE(mine->complete);
  EXPECT_TRUE(p->ListPoolImages(kUri)->empty());  // local: no pool

  std::string key = tcp + "/" + td->uuid();
  ASSERT_TRUE(p->InsertMedia(key, "hdc", *path).ok());
  Status busy = p->DeletePoolImage(tcp, digest);
  EXPECT_TRUE(IsDriveBusy(busy)) << busy.ToString();
  ASSERT_TRUE(p->EjectMedia(key, "hdc", *path, false).ok());
  Status del = p->DeletePoolImage(tcp, digest);
  ASSERT_TRUE(del.ok()) << del.ToString();
  auto left = p->ListPoolImages(tcp);
  ASSERT_TRUE(left.ok());
  for (const PoolImage& img : *left) EXPECT_NE(img.digest, digest);
  EXPECT_EQ(std::system(("virsh -q -c qemu:///system vol-info --pool gitdisc " + digest +
                         ".iso.ok >/dev/null 2>&1")
                            .c_str()) == 0,
            false);  // the marker went too
  EXPECT_TRUE(p->DeletePoolImage(tcp, digest).ok());  // idempotent
  EXPECT_EQ(p->DeletePoolImage(tcp, "NOT-HEX").code(), Status::Code::kInvalid);
}

TEST_F(LibvirtProviderTest, LocalImageInUnreachableDirectoryIsAPermissionError) {
  char tmpl[] = "/tmp/gitdisc-providers-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);  // 0700: libvirt-qemu cannot enter
  std::string dir = tmpl;
  std::string iso = dir + "/x.iso";
  FILE* f = std::fopen(iso.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("data", f);
  std::fclose(f);
  auto r = provider_->PrepareImage(kUri, iso, "ab");
  EXPECT_EQ(r.status().code(), Status::Code::kPermission) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr(dir));
  std::remove(iso.c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace gitdisc
