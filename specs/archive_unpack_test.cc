// UnpackArchive on archives written here with libarchive's writer, so that
// every hostile entry (absolute, "..", links out, devices, duplicates) can be
// made exactly.
#include "specs/archive_unpack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/file_util.h"
#include "specs/test_archive.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::specs {
namespace {

using ::testing::HasSubstr;
using test_archive::E;
using test_archive::Format;
using test_archive::WriteArchive;

class UnpackTest : public ::testing::Test {
 protected:
  Status Unpack(const std::vector<E>& entries, Format format = Format::kTarGz,
                UnpackLimits limits = {}) {
    const std::string archive = dir_ / "a.archive";
    (void)::unlink(archive.c_str());
    WriteArchive(archive, entries, format);
    return UnpackArchive(archive, dest(), limits);
  }
  std::string dest() const { return dir_ / "out"; }
  // Only the archive is left in the folder: no `out`, no temporary.
  bool LeftNothing() const {
    DIR* d = ::opendir(dir_.path().c_str());
    int n = 0;
    while (dirent* e = d ? ::readdir(d) : nullptr) n += e->d_name[0] != '.';
    if (d) ::closedir(d);
    return n == 1;
  }
  testing::TempDir dir_{"unpack"};
};

TEST_F(UnpackTest, ExtractsFilesFoldersAndInsideLinksFromEachFormat) {
  for (Format f : {Format::kTarGz, Format::kTarXz, Format::kZip}) {
    (void)RemoveAll(dest());
    Status st = Unpack({{.path = "./install.sh", .data = "#!/bin/sh\necho hi\n", .perm = 0700},
                        {.path = "etc/", .type = AE_IFDIR, .perm = 0700},
                        {.path = "etc/motd", .data = "hello\n", .perm = 0600},
                        {.path = "current", .type = AE_IFLNK, .link = "etc/motd"}},
                       f);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(*ReadFile(dest() + "/install.sh"), "#!/bin/sh\necho hi\n");
    EXPECT_EQ(*ReadFile(dest() + "/etc/motd"), "hello\n");
    struct stat s {};
    ASSERT_EQ(::stat((dest() + "/install.sh").c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 07777, 0755u);  // normalised
    ASSERT_EQ(::stat((dest() + "/etc/motd").c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 07777, 0644u);
    char target[64] = {};
    ASSERT_GT(::readlink((dest() + "/current").c_str(), target, sizeof target - 1), 0);
    EXPECT_STREQ(target, "etc/motd");
  }
}

TEST_F(UnpackTest, RefusesEntriesThatWouldLeaveTheFolderAndLeavesNothingBehind) {
  struct Case {
    std::vector<E> entries;
    const char* why;
  };
  const std::vector<Case> cases = {
      {{{.path = "/etc/cron.d/x", .data = "x"}}, "leave the payload folder"},
      {{{.path = "a/../../x", .data = "x"}}, "leave the payload folder"},
      {{{.path = "../x", .data = "x"}}, "leave the payload folder"},
      {{{.path = "l", .type = AE_IFLNK, .link = "/etc/passwd"}}, "l"},
      {{{.path = "l", .type = AE_IFLNK, .link = "../../x"}}, "l"},
      // a link to a folder outside, then a file written "through" it
      {{{.path = "d", .type = AE_IFLNK, .link = "/tmp"}, {.path = "d/x", .data = "x"}}, "'d'"},
      // a link inside, then a file below it: the file may not go through it
      {{{.path = "d", .type = AE_IFLNK, .link = "sub"}, {.path = "sub/", .type = AE_IFDIR},
        {.path = "d/x", .data = "x"}},
       "appears twice"},
      {{{.path = "f", .data = "x"}, {.path = "h", .link = "f"}}, "hard links"},
      {{{.path = "dev", .type = AE_IFCHR}}, "not a file, folder or symbolic link"},
      {{{.path = "fifo", .type = AE_IFIFO}}, "not a file, folder or symbolic link"},
      {{{.path = "x", .data = "1"}, {.path = "./x", .data = "2"}}, "appears twice"},
  };
  for (const Case& c : cases) {
    Status st = Unpack(c.entries);
    EXPECT_EQ(st.code(), Status::Code::kInvalid) << c.entries[0].path << ": " << st.ToString();
    EXPECT_THAT(st.message(), HasSubstr(c.why)) << c.entries[0].path;
    EXPECT_TRUE(LeftNothing()) << c.entries[0].path;
  }
}

TEST_F(UnpackTest, StopsAtTheSizeAndEntryBounds) {
  Status big = Unpack({{.path = "a", .data = std::string(600, 'a')},
                       {.path = "b", .data = std::string(600, 'b')}},
                      Format::kTarGz, UnpackLimits{.max_bytes = 1000});
  EXPECT_EQ(big.code(), Status::Code::kInvalid);
  EXPECT_THAT(big.message(), HasSubstr("more than 1000 bytes"));
  EXPECT_TRUE(LeftNothing());
  Status many = Unpack({{.path = "a", .data = "1"}, {.path = "b", .data = "2"}}, Format::kZip,
                       UnpackLimits{.max_entries = 1});
  EXPECT_THAT(many.message(), HasSubstr("more than 1 entries"));
  EXPECT_TRUE(LeftNothing());
}

TEST_F(UnpackTest, GarbageIsAnInvalidArchiveNotACrash) {
  const std::string junk = dir_ / "junk.tgz";
  ASSERT_TRUE(WriteFileAtomic(junk, std::string("\x1f\x8b\x08\x00garbage", 12)).ok());
  Status st = UnpackArchive(junk, dest());
  EXPECT_EQ(st.code(), Status::Code::kInvalid);
  EXPECT_THAT(st.message(), HasSubstr(junk));
  EXPECT_FALSE(PathExists(dest()));
}

}  // namespace
}  // namespace gitdisc::specs
