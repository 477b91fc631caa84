#include "base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <gtest/gtest.h>

#include "base/c_handle.h"

namespace gitdisc {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(UniqueFd, ClosesItsDescriptorWhenItGoesOutOfScope) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  { UniqueFd fd(raw); EXPECT_TRUE(fd.valid()); }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(UniqueFd, MovingTransfersOwnershipAndAssigningClosesTheOldDescriptor) {
  int a = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  UniqueFd first(a);
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());
  EXPECT_EQ(second.get(), a);
  second = UniqueFd(b);
  EXPECT_FALSE(IsOpen(a));
  EXPECT_TRUE(IsOpen(b));
}

TEST(UniqueFd, ReleaseGivesUpOwnershipWithoutClosing) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int released = -1;
  { UniqueFd fd(raw); released = fd.release(); }
  EXPECT_TRUE(IsOpen(released));
  ::close(released);
}

TEST(UniqueFd, CloseReportsAndForgetsTheDescriptor) {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = fd.get();
  EXPECT_EQ(fd.Close(), 0);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(IsOpen(raw));
  EXPECT_EQ(fd.Close(), 0);  // closing an empty one is a no-op
}

int fclose_calls = 0;
int CountingFclose(FILE* f) {
  ++fclose_calls;
  return std::fclose(f);
}

TEST(CHandle, FreesNonNullHandlesWithTheLibrarysFunction) {
  fclose_calls = 0;
  { CHandle<FILE, CountingFclose> file(std::fopen("/dev/null", "r")); }
  { CHandle<FILE, CountingFclose> none; }
  EXPECT_EQ(fclose_calls, 1);
}

}  // namespace
}  // namespace gitdisc
