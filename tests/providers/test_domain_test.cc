// Tests of the shared TestDomain helper against the real libvirtd.
#include "tests/support/test_domain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace gitdisc::test_support {
namespace {

using ::testing::HasSubstr;

class TestDomainTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(EnsureLibvirtd().ok()); }
};

TEST(TestDomainXml, HasEmptyIdeCdromChannelLabelsAndNoNetwork) {
  TestDomainOptions o;
  o.cdrom_count = 2;
  o.labels = {{"role", "web"}, {"a&b", "<x>"}};
  std::string xml = BuildTestDomainXml(o, "n", "/tmp/c.log", "", "");
  EXPECT_THAT(xml, HasSubstr("<domain type='qemu'>"));
  EXPECT_THAT(xml, HasSubstr("<target dev='hdc' bus='ide'/>"));
  EXPECT_THAT(xml, HasSubstr("<target dev='hdd' bus='ide'/>"));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("<source file=")));
  EXPECT_THAT(xml, HasSubstr("name='org.gitdisc.agent.0'"));
  EXPECT_THAT(xml, HasSubstr("<g:label key='a&amp;b' value='&lt;x&gt;'/>"));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("<interface")));
  EXPECT_THAT(xml, ::testing::Not(HasSubstr("<kernel>")));
}

TEST(TestDomainName, IsUniqueAndPrefixed) {
  std::string a = UniqueTestDomainName("x"), b = UniqueTestDomainName("x");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("gitdisc-test-", 0), 0u);
}

TEST_F(TestDomainTest, CreatesRunningDomainAndRemovesItOnScopeExit) {
  std::string name, uri;
  {
    TestDomainOptions o;
    o.name_hint = "smoke";
    o.labels = {{"role", "web"}};
    auto td = TestDomain::Create(o);
    ASSERT_TRUE(td.ok()) << td.status().ToString();
    name = (*td)->name();
    auto running = (*td)->IsRunning();
    ASSERT_TRUE(running.ok());
    EXPECT_TRUE(*running);
    auto xml = (*td)->XmlDesc();
    ASSERT_TRUE(xml.ok());
    EXPECT_THAT(*xml, HasSubstr("dev='hdc'"));
    EXPECT_THAT(*xml, HasSubstr("urn:gitdisc:labels:1"));
    EXPECT_THAT(*xml, HasSubstr("org.gitdisc.agent.0"));
    EXPECT_EQ((*td)->key(), "qemu:///system/" + (*td)->uuid());
  }
  int rc = std::system(("virsh -q -c qemu:///system dominfo " + name + " >/dev/null 2>&1").c_str());
  EXPECT_NE(rc, 0) << name << " still exists";
}

TEST_F(TestDomainTest, BootsAKernelAndWaitsForConsoleLine) {
  TestDomainOptions o;
  o.name_hint = "kernel";
  o.agent_channel = false;
  // No initrd: the kernel prints its banner, then panics (no root) and idles.
  o.cmdline_extra = "loglevel=7";
  // Whatever kernel /boot has: pick the first vmlinuz.
  FILE* p = popen("ls /boot/vmlinuz-* 2>/dev/null | head -1", "r");
  char buf[512] = {0};
  if (p && fgets(buf, sizeof buf, p)) {
    std::string k = buf;
    while (!k.empty() && (k.back() == '\n')) k.pop_back();
    o.kernel = k;
  }
  if (p) pclose(p);
  auto td = TestDomain::Create(o);
  ASSERT_TRUE(td.ok()) << td.status().ToString();
  Status s = (*td)->WaitForConsoleLine("Linux version", std::chrono::seconds(120));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace gitdisc::test_support
