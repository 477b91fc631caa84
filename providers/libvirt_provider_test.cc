// LibvirtProvider against libvirt's in-process test driver (test:///default):
// no daemon, no root, no QEMU. The test driver keeps <metadata> but has no
// media change or channel (DESIGN.md §9), so this covers inventory, labels
// and error mapping; tests/providers covers the rest on real QEMU.
#include "providers/libvirt_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc {
namespace {

constexpr char kTestUri[] = "test:///default";

TEST(LibvirtProviderTestDriver, ListsTheDefaultDomainWithKeyAndState) {
  auto p = LibvirtProvider::Open({kTestUri});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok()) << vms.status().ToString();
  ASSERT_FALSE(vms->empty());
  const VmInfo& vm = vms->front();
  EXPECT_EQ(vm.name, "test");
  EXPECT_EQ(vm.host, kTestUri);
  EXPECT_EQ(vm.key, std::string(kTestUri) + "/" + vm.uuid);
  EXPECT_EQ(vm.state, VmInfo::kRunning);
  EXPECT_FALSE(vm.has_agent_channel);
  auto again = (*p)->GetVm(vm.key);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->uuid, vm.uuid);
}

TEST(LibvirtProviderTestDriver, LabelsRoundTrip) {
  auto p = LibvirtProvider::Open({kTestUri});
  ASSERT_TRUE(p.ok());
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok() && !vms->empty());
  std::string key = vms->front().key;
  Status s = (*p)->SetLabels(key, {{"role", "web"}, {"env", "a<b"}}, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ((*p)->GetVm(key)->labels,
            (std::map<std::string, std::string>{{"env", "a<b"}, {"role", "web"}}));
  ASSERT_TRUE((*p)->SetLabels(key, {}, {"env"}).ok());
  EXPECT_EQ((*p)->GetVm(key)->labels, (std::map<std::string, std::string>{{"role", "web"}}));
  ASSERT_TRUE((*p)->SetLabels(key, {}, {"role"}).ok());
  EXPECT_TRUE((*p)->GetVm(key)->labels.empty());
}

TEST(LibvirtProviderTestDriver, ErrorsAreStatusesNotCrashes) {
  auto p = LibvirtProvider::Open({kTestUri});
  ASSERT_TRUE(p.ok());
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok() && !vms->empty());
  std::string key = vms->front().key;
  EXPECT_EQ(
      (*p)->GetVm(std::string(kTestUri) + "/00000000-0000-0000-0000-000000000000").status().code(),
      Status::Code::kNotFound);
  EXPECT_EQ((*p)->GetVm("qemu:///elsewhere/x").status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*p)->InsertMedia(key, "hdc", "/x.iso").code(), Status::Code::kNotFound);  // no drive
  EXPECT_EQ((*p)->OpenAgentChannel(key).status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*p)->PrepareImage("qemu:///elsewhere", "/x", "ab").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ((*p)->PrepareImage(kTestUri, "relative.iso", "ab").status().code(),
            Status::Code::kInvalid);
  EXPECT_FALSE(LibvirtProvider::Open({}).ok());
  EXPECT_FALSE(LibvirtProvider::Open({kTestUri, kTestUri}).ok());
  EXPECT_EQ(LibvirtProvider::Open({"bogus+nothing:///x"}).status().code(),
            Status::Code::kUnavailable);
}

TEST(LibvirtProviderTestDriver, WatchRegistersAndProvidersComeAndGo) {
  // Several providers in a row share one event loop; each cleans up.
  for (int i = 0; i < 3; ++i) {
    auto p = LibvirtProvider::Open({kTestUri});
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE((*p)->Watch([](const std::string&, EventKind) {}).ok());
    EXPECT_TRUE((*p)->Watch([](const std::string&, EventKind) {}).ok());  // replace
  }
}

}  // namespace
}  // namespace gitdisc
