#include "base/file_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gitdisc-fileutil-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  std::string dir_;
};

TEST_F(FileUtilTest, WriteAtomicThenReadBack) {
  std::string p = JoinPath(dir_, "f");
  ASSERT_TRUE(WriteFileAtomic(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two", 0600).ok());
  auto r = ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "two");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(FileUtilTest, ReadRefusesFilesOverLimit) {
  std::string p = JoinPath(dir_, "big");
  ASSERT_TRUE(WriteFileAtomic(p, std::string(100, 'x')).ok());
  auto r = ReadFile(p, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_TRUE(ReadFile(p, 100).ok());
}

TEST_F(FileUtilTest, ReadMissingIsNotFound) {
  EXPECT_TRUE(ReadFile(JoinPath(dir_, "nope")).status().IsNotFound());
}

TEST_F(FileUtilTest, MakeDirsCreatesNestedAndIsIdempotent) {
  std::string p = JoinPath(dir_, "a/b/c");
  ASSERT_TRUE(MakeDirs(p).ok());
  ASSERT_TRUE(MakeDirs(p).ok());
  EXPECT_TRUE(PathExists(p));
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "file"), "x").ok());
  EXPECT_FALSE(MakeDirs(JoinPath(dir_, "file")).ok());
}

TEST_F(FileUtilTest, ListFolderIsSortedWithoutDotsAndMissingIsNotFound) {
  ASSERT_TRUE(MakeDirs(JoinPath(dir_, "b")).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "c"), "x").ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir_, "a"), "x").ok());
  auto names = ListFolder(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(ListFolder(JoinPath(dir_, "nope")).status().IsNotFound());
}

TEST(JoinPath, ExactlyOneSlash) {
  EXPECT_EQ(JoinPath("a/", "/b"), "a/b");
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace gitdisc
