#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file_util.h"
#include "iso/iso_reader.h"
#include "cli/cli_run_for_test.h"

namespace gitdisc::cli {
namespace {

using Ran = CliRun;

Ran Cli(const std::vector<std::string>& args, bool tty = false) { return RunCliForTest(args, tty); }

class IsoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/gitdisc-isocli-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    ASSERT_TRUE(MakeDirs(dir_ + "/motd/etc").ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/tools").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/motd/install.sh", "#!/bin/sh\necho hi\n", 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/motd/etc/motd", "Welcome\n").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/tools/readme.txt", "tools\n").ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(IsoCli, BuildPrintsDigestAndVerifyPasses) {
  Ran b = Cli({"iso", "build", dir_ + "/motd", dir_ + "/tools", "-o", dir_ + "/out.iso", "--label",
               "demo"});
  ASSERT_EQ(b.code, 0) << b.err;
  ASSERT_EQ(b.out.size(), 65u) << b.out;  // 64 hex digits and a newline
  std::string digest = b.out.substr(0, 64);
  EXPECT_NE(b.err.find("100%"), std::string::npos) << b.err;  // plain progress lines

  Ran v = Cli({"iso", "verify", dir_ + "/out.iso"});
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("ok " + digest), std::string::npos) << v.out;

  auto reader = iso::IsoReader::Open(dir_ + "/out.iso");
  ASSERT_TRUE(reader.ok());
  auto m = (*reader)->ReadManifest();
  ASSERT_TRUE(m.ok());
  ASSERT_NE(m->FindPayload("motd"), nullptr);
  EXPECT_EQ(m->FindPayload("motd")->run, std::vector<std::string>{"./install.sh"});
  EXPECT_TRUE(m->FindPayload("tools")->run.empty());  // no install.sh there
}

TEST_F(IsoCli, BuildJsonAndReproducible) {
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  Ran a = Cli(
      {"-o", "json", "iso", "build", dir_ + "/motd", "-o", dir_ + "/a.iso", "--revision", "r1"});
  Ran b = Cli(
      {"-o", "json", "iso", "build", dir_ + "/motd", "-o", dir_ + "/b.iso", "--revision", "r1"});
  unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  auto j = nlohmann::json::parse(a.out);
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["volumeId"], "GITDISC_" + j["digest"].get<std::string>().substr(0, 24));
  EXPECT_EQ(a.out.find(dir_ + "/a.iso") != std::string::npos, true);
  std::string cmp_out;
  EXPECT_EQ(system(("cmp -s " + dir_ + "/a.iso " + dir_ + "/b.iso").c_str()), 0);
}

TEST_F(IsoCli, VerifyNamesTamperedFileWithExit1) {
  ASSERT_EQ(Cli({"iso", "build", dir_ + "/motd", "-o", dir_ + "/out.iso"}).code, 0);
  auto reader = iso::IsoReader::Open(dir_ + "/out.iso");
  ASSERT_TRUE(reader.ok());
  const iso::IsoEntry* e = (*reader)->Find("P/motd/etc/motd");
  ASSERT_NE(e, nullptr);
  off_t at = off_t(e->extents[0].lba) * 2048;
  reader->reset();
  int fd = ::open((dir_ + "/out.iso").c_str(), O_RDWR);
  ASSERT_EQ(::pwrite(fd, "X", 1, at), 1);
  ::close(fd);
  Ran v = Cli({"iso", "verify", dir_ + "/out.iso"});
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.out.find("mismatch P/motd/etc/motd"), std::string::npos) << v.out;
  Ran vj = Cli({"-o", "json", "iso", "verify", dir_ + "/out.iso"});
  EXPECT_EQ(vj.code, 1);
  auto j = nlohmann::json::parse(vj.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["mismatches"][0]["path"], "P/motd/etc/motd");
}

TEST_F(IsoCli, ProgressOverwritesOneLineOnATty) {
  Ran b = Cli({"iso", "build", dir_ + "/motd", "-o", dir_ + "/tty.iso"}, /*tty=*/true);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.err.find("\rbuilding " + dir_ + "/tty.iso: 100%"), std::string::npos) << b.err;
  EXPECT_EQ(b.err.back(), '\n');
  Ran plain = Cli({"iso", "build", dir_ + "/motd", "-o", dir_ + "/plain.iso"});
  EXPECT_EQ(plain.err.find('\r'), std::string::npos);
}

TEST_F(IsoCli, ErrorsExit2) {
  EXPECT_EQ(Cli({"iso", "verify", dir_ + "/missing.iso"}).code, 2);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/junk.iso", std::string(70000, 'j')).ok());
  EXPECT_EQ(Cli({"iso", "verify", dir_ + "/junk.iso"}).code, 2);
  EXPECT_EQ(Cli({"iso", "build", dir_ + "/nope", "-o", dir_ + "/x.iso"}).code, 2);
  EXPECT_EQ(Cli({"iso", "build", dir_ + "/motd"}).code, 2);  // no -o
  EXPECT_EQ(Cli({"iso"}).code, 2);
  ASSERT_TRUE(MakeDirs(dir_ + "/Bad Name").ok());
  Ran bad = Cli({"iso", "build", dir_ + "/Bad Name", "-o", dir_ + "/x.iso"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("not a valid payload name"), std::string::npos) << bad.err;
  EXPECT_FALSE(PathExists(dir_ + "/x.iso"));
  // Unwritable destination.
  EXPECT_EQ(Cli({"iso", "build", dir_ + "/motd", "-o", dir_ + "/no/such/dir/x.iso"}).code, 2);
}

}  // namespace
}  // namespace gitdisc::cli
