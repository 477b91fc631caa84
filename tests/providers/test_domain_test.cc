// Tests of the shared TestDomain helper against the real libvirtd.
#include "tests/support/test_domain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

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

TEST(TestDomainXml, DiskAndAcpiOnlyWhenAsked) {
  TestDomainOptions o;
  std::string plain = BuildTestDomainXml(o, "n", "/tmp/c.log", "", "");
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("<acpi/>")));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("device='disk'")));
  o.acpi = true;
  o.disk_backing = "/var/cache/x/rootfs.img";
  std::string xml = BuildTestDomainXml(o, "n", "/tmp/c.log", "", "", "/tmp/w/disk.qcow2");
  EXPECT_THAT(xml, HasSubstr("<source file='/var/cache/x/rootfs.img'>"));
  EXPECT_THAT(xml, HasSubstr("<format type='raw'/>"));
  EXPECT_THAT(xml, HasSubstr("<seclabel model='dac' relabel='no'/>"));
  EXPECT_THAT(xml, HasSubstr("<features><acpi/></features>"));
  EXPECT_THAT(xml, HasSubstr("<driver name='qemu' type='qcow2'/>"));
  EXPECT_THAT(xml, HasSubstr("<source file='/tmp/w/disk.qcow2'/>"));
  EXPECT_THAT(xml, HasSubstr("<target dev='vda' bus='virtio'/>"));
  EXPECT_THAT(xml, HasSubstr("<target dev='hdc' bus='ide'/>"));
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

TEST_F(TestDomainTest, DiskIsAPrivateOverlayOfTheImage) {
  // A small raw image stands in for the Debian guest's rootfs.img.
  char dir_tmpl[] = "/tmp/gitdisc-overlay-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  std::string dir = dir_tmpl, image = dir + "/rootfs.img";
  ASSERT_EQ(std::system(("truncate -s 16M " + image).c_str()), 0);
  ::chmod(dir.c_str(), 0755);
  {
    TestDomainOptions o;
    o.name_hint = "disk";
    o.persistent = true;
    o.start = false;
    o.disk_backing = image;
    o.acpi = true;
    auto td = TestDomain::Create(o);
    ASSERT_TRUE(td.ok()) << td.status().ToString();
    std::string overlay = (*td)->work_dir() + "/disk.qcow2";
    auto xml = (*td)->XmlDesc(/*inactive=*/true);
    ASSERT_TRUE(xml.ok());
    EXPECT_THAT(*xml, HasSubstr("<source file='" + overlay + "'"));
    EXPECT_THAT(*xml, HasSubstr("<acpi/>"));
    EXPECT_THAT(*xml, HasSubstr("<source file='" + image + "'>"));
    FILE* p = popen(("qemu-img info --output=json " + overlay).c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string info;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) info += buf;
    pclose(p);
    EXPECT_THAT(info, HasSubstr("\"backing-filename\": \"" + image + "\""));
    EXPECT_THAT(info, HasSubstr("\"format\": \"qcow2\""));
  }
  std::system(("rm -rf " + dir).c_str());
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
