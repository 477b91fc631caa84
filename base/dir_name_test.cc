#include "base/dir_name.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(DirName, FolderPartOfAPath) {
  EXPECT_EQ(DirName("/var/lib/gitdisc/x.iso"), "/var/lib/gitdisc");
  EXPECT_EQ(DirName("/x.iso"), "/");
  EXPECT_EQ(DirName("x.iso"), ".");
  EXPECT_EQ(DirName("a/b"), "a");
}

}  // namespace
}  // namespace gitdisc
