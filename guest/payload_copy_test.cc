#include "guest/payload_copy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_util.h"
#include "base/sha256.h"
#include "guest/test_bundle.h"

namespace gitdisc::guest {
namespace {

using testing::TempDir;

iso::ManifestFile File(std::string path, const std::string& content, uint32_t mode) {
  return {std::move(path), content.size(), 0100000 | mode, Sha256Hex(content)};
}

iso::ManifestFile Link(std::string path, const std::string& target) {
  return {std::move(path), target.size(), 0120777, Sha256Hex(target)};
}

// A payload entry and a folder that matches it exactly.
class PayloadCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entry_.name = "app";
    entry_.files = {File("install.sh", "#!/bin/sh\necho hi\n", 0755),
                    File("data/readme.txt", "read me\n", 0644), Link("sub/ok", "../install.sh")};
    Write("install.sh", "#!/bin/sh\necho hi\n", 0755);
    Write("data/readme.txt", "read me\n", 0644);
    ASSERT_TRUE(MakeDirs(dir_ / "sub").ok());
    ASSERT_EQ(::symlink("../install.sh", (dir_ / "sub/ok").c_str()), 0);
  }

  void Write(const std::string& rel, const std::string& content, int mode) {
    std::string path = dir_ / rel;
    ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))).ok());
    ASSERT_TRUE(WriteFileAtomic(path, content, mode).ok());
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  // Expects a refusal whose message names `path` and contains `why`.
  void ExpectRefused(const std::string& path, const std::string& why) {
    Status s = VerifyPayloadCopy(dir_.path(), entry_);
    EXPECT_EQ(s.code(), Status::Code::kCorrupt) << s.ToString();
    EXPECT_NE(s.message().find("payload app does not match its manifest"), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  }

  TempDir dir_;
  iso::ManifestPayload entry_;
};

TEST_F(PayloadCopyTest, AnExactCopyPasses) {
  Status s = VerifyPayloadCopy(dir_.path(), entry_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(PayloadCopyTest, ATamperedFileIsRefused) {
  Write("data/readme.txt", "READ me\n", 0644);  // same size, other bytes
  ExpectRefused("data/readme.txt", "sha256 differs");
}

TEST_F(PayloadCopyTest, AnExtraFileOrFolderIsRefused) {
  Write("data/extra", "x", 0644);
  ExpectRefused("data/extra", "not in the manifest");
  ASSERT_TRUE(RemoveAll(dir_ / "data/extra").ok());
  ASSERT_TRUE(MakeDirs(dir_ / "more").ok());
  ExpectRefused("more", "folder not in the manifest");
}

TEST_F(PayloadCopyTest, AWrongModeIsRefused) {
  ASSERT_EQ(::chmod((dir_ / "install.sh").c_str(), 0644), 0);
  ExpectRefused("install.sh", "mode 644, expected 755");
}

TEST_F(PayloadCopyTest, ASymlinkOutOfTheFolderIsRefused) {
  entry_.files.push_back(Link("passwd", "../../etc/passwd"));
  ASSERT_EQ(::symlink("../../etc/passwd", (dir_ / "passwd").c_str()), 0);
  ExpectRefused("passwd", "leaves the payload folder");
  entry_.files.back() = Link("passwd", "/etc/passwd");
  ASSERT_EQ(::unlink((dir_ / "passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (dir_ / "passwd").c_str()), 0);
  ExpectRefused("passwd", "is absolute");
}

TEST_F(PayloadCopyTest, ASymlinkWhereAFileIsListedAndAMissingFileAreRefused) {
  ASSERT_EQ(::unlink((dir_ / "install.sh").c_str()), 0);
  ASSERT_EQ(::symlink("/bin/sh", (dir_ / "install.sh").c_str()), 0);
  ExpectRefused("install.sh", "a symlink, expected a file");
  ASSERT_EQ(::unlink((dir_ / "install.sh").c_str()), 0);
  ExpectRefused("install.sh", "missing");
}

TEST_F(PayloadCopyTest, WhatOthersCouldWriteIsRefused) {
  ASSERT_EQ(::chmod((dir_ / "data").c_str(), 0777), 0);
  ExpectRefused("data", "writable by group or others");
  ASSERT_EQ(::chmod((dir_ / "data").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0775), 0);
  ExpectRefused(".", "writable by group or others");
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  // A manifest may say 0666, but such a file could change before its exec.
  entry_.files[1] = File("data/readme.txt", "read me\n", 0666);
  ASSERT_EQ(::chmod((dir_ / "data/readme.txt").c_str(), 0666), 0);
  ExpectRefused("data/readme.txt", "writable by group or others");
}

TEST_F(PayloadCopyTest, SomethingElseThanFilesFoldersAndSymlinksIsRefused) {
  ASSERT_EQ(::mkfifo((dir_ / "data/fifo").c_str(), 0644), 0);
  ExpectRefused("data/fifo", "not a file, folder or symlink");
}

TEST_F(PayloadCopyTest, AFolderThatIsASymlinkIsRefused) {
  Status s = VerifyPayloadCopy(dir_ / "sub/ok", entry_);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace gitdisc::guest
