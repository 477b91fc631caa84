#include "base/symlink_path.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(ResolveSymlinkInFolder, StaysInsideOrFails) {
  std::vector<std::pair<std::string, std::string>> links = {
      {"d/l", "../f"}, {"up", ".."}, {"loop1", "loop2"}, {"loop2", "loop1"}, {"dl", "d"}};
  EXPECT_EQ(*ResolveSymlinkInFolder("d/l", "../f", links), "f");
  EXPECT_EQ(*ResolveSymlinkInFolder("x", "dl/l", links), "f");
  EXPECT_EQ(*ResolveSymlinkInFolder("x", "./a/./b", links), "a/b");
  EXPECT_FALSE(ResolveSymlinkInFolder("up", "..", links).ok());
  EXPECT_FALSE(ResolveSymlinkInFolder("x", "up/y", links).ok());
  EXPECT_FALSE(ResolveSymlinkInFolder("x", "/etc/passwd", links).ok());
  EXPECT_FALSE(ResolveSymlinkInFolder("x", "a/../../b", links).ok());
  auto loop = ResolveSymlinkInFolder("loop1", "loop2", links);
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("loop"), std::string::npos);
}

}  // namespace
}  // namespace gitdisc
