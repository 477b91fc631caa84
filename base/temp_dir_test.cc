#include "base/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "base/file_util.h"

namespace gitdisc {
namespace {

TEST(TempDir, IsPrivateAndGoesWithEverythingInIt) {
  std::string path;
  {
    auto dir = TempDir::Make("gitdisc-tempdir-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    path = dir->path();
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_TRUE(MakeDirs(path + "/a/b").ok());
    ASSERT_TRUE(WriteFileAtomic(path + "/a/b/f", "x").ok());
    TempDir moved = std::move(dir).value();
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_FALSE(PathExists(path));
}

}  // namespace
}  // namespace gitdisc
