#include "providers/vsphere_uri.h"

#include <gtest/gtest.h>

#include "base/file_util.h"

namespace gitdisc {
namespace {

TEST(VsphereUri, ParsesEveryPart) {
  auto t = ParseVsphereUri(
      "vsphere://svc-gitdisc@vc.example.org:8443/emea/DC%201?insecure=1&passwordFile=/etc/gitdisc/"
      "vc.pw&caFile=/etc/ssl/vc.pem");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->user, "svc-gitdisc");
  EXPECT_EQ(t->host, "vc.example.org");
  EXPECT_EQ(t->port, 8443);
  EXPECT_EQ(t->datacenter, "emea/DC 1");
  EXPECT_TRUE(t->insecure);
  EXPECT_EQ(t->password_file, "/etc/gitdisc/vc.pw");
  EXPECT_EQ(t->ca_file, "/etc/ssl/vc.pem");
}

TEST(VsphereUri, DefaultsAndIpv6) {
  auto t = ParseVsphereUri("vsphere://admin%40vsphere.local@[::1]/DC0?passwordFile=pw");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->user, "admin@vsphere.local");
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 443);
  EXPECT_FALSE(t->insecure);
  EXPECT_TRUE(IsVsphereUri(t->uri));
  EXPECT_FALSE(IsVsphereUri("qemu:///system"));
}

TEST(VsphereUri, RefusesWhatItCannotUseAndNeverRepeatsAPassword) {
  for (const char* bad : {
           "qemu:///system", "vsphere://host/DC0?passwordFile=p", "vsphere://u@host?passwordFile=p",
           "vsphere://u@host/?passwordFile=p", "vsphere://u@host/DC0", "vsphere://u@:443/DC0?passwordFile=p",
           "vsphere://u@host:0/DC0?passwordFile=p", "vsphere://u@host:x/DC0?passwordFile=p",
           "vsphere://u@host/DC0?passwordFile=p&colour=blue", "vsphere://u@host/DC0?passwordFile=p&insecure=maybe",
           "vsphere://u@host/DC%zz?passwordFile=p", "vsphere://u@[::1/DC0?passwordFile=p"}) {
    auto t = ParseVsphereUri(bad);
    EXPECT_EQ(t.status().code(), Status::Code::kInvalid) << bad;
  }
  auto t = ParseVsphereUri("vsphere://u:Hunter2-Secret@host/DC0?passwordFile=p");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().find("Hunter2-Secret"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("passwordFile"), std::string::npos);
}

TEST(VsphereUri, RedactsUserinfoPasswords) {
  EXPECT_EQ(RedactUri("vsphere://u:pw@h/DC0?x=1"), "vsphere://u:***@h/DC0?x=1");
  EXPECT_EQ(RedactUri("vsphere://u@h/DC0"), "vsphere://u@h/DC0");
  EXPECT_EQ(RedactUri("qemu+ssh://root:pw@h/system"), "qemu+ssh://root:***@h/system");
  EXPECT_EQ(RedactUri("qemu:///system"), "qemu:///system");
}

TEST(VsphereUri, ReadsThePasswordsFirstLine) {
  std::string dir = "/tmp/gitdisc-pw-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  ASSERT_TRUE(WriteFileAtomic(dir + "/pw", "s3cret\r\nignored\n", 0600).ok());
  EXPECT_EQ(*ReadPasswordFile(dir + "/pw"), "s3cret");
  ASSERT_TRUE(WriteFileAtomic(dir + "/empty", "\n", 0600).ok());
  EXPECT_EQ(ReadPasswordFile(dir + "/empty").status().code(), Status::Code::kInvalid);
  auto missing = ReadPasswordFile(dir + "/none");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("passwordFile"), std::string::npos);
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace gitdisc
