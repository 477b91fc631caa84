#include "providers/provider_factory.h"

#include <gtest/gtest.h>

#include "tests/support/fake_provider.h"

namespace gitdisc {
namespace {

TEST(MultiProvider, RoutesEachCallByTheKeysHost) {
  auto a = std::make_unique<FakeProvider>(std::vector<std::string>{"qemu:///system"});
  auto b = std::make_unique<FakeProvider>(
      std::vector<std::string>{"vsphere://u@vc/DC0?passwordFile=/pw"});
  FakeProvider* fa = a.get();
  FakeProvider* fb = b.get();
  std::string ka = fa->AddVm({.name = "kvm-1"});
  std::string kb = fb->AddVm({.name = "esx-1"});
  std::vector<std::unique_ptr<Provider>> list;
  list.push_back(std::move(a));
  list.push_back(std::move(b));
  auto multi = MakeMultiProvider(std::move(list));
  EXPECT_EQ(multi->Hosts().size(), 2u);
  auto vms = multi->ListVms();
  ASSERT_TRUE(vms.ok());
  ASSERT_EQ(vms->size(), 2u);
  EXPECT_LT((*vms)[0].key, (*vms)[1].key);
  ASSERT_TRUE(multi->SetLabels(kb, {{"role", "web"}}, {}).ok());
  EXPECT_EQ(fb->Peek(kb)->labels.at("role"), "web");
  EXPECT_TRUE(fa->Peek(ka)->labels.empty());
  ASSERT_TRUE(multi->InsertMedia(ka, "hdc", "/iso/x.iso").ok());
  EXPECT_EQ(fa->Peek(ka)->cdroms[0].source, "/iso/x.iso");
  EXPECT_EQ(multi->GetVm("qemu+ssh://elsewhere/system/uuid").status().code(),
            Status::Code::kNotFound);
  EXPECT_EQ(multi->PrepareImage("xen:///", "/x.iso", std::string(64, 'a')).status().code(),
            Status::Code::kNotFound);
}

TEST(OpenProvider, RefusesNoUriAndDuplicates) {
  EXPECT_EQ(OpenProvider({}).status().code(), Status::Code::kInvalid);
  EXPECT_EQ(OpenProvider({"test:///default", "test:///default"}).status().code(),
            Status::Code::kInvalid);
  auto bad = OpenProvider({"vsphere://u:Secret-In-Uri@h/DC0?passwordFile=/p"});
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(bad.status().message().find("Secret-In-Uri"), std::string::npos);
}

TEST(OpenProvider, OpensLibvirtUrisAsBefore) {
  auto p = OpenProvider({"test:///default"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Hosts(), std::vector<std::string>{"test:///default"});
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok());
  EXPECT_FALSE(vms->empty());
}

}  // namespace
}  // namespace gitdisc
