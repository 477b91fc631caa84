#include "base/write_all.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace gitdisc {
namespace {

// A large buffer written to a regular file, read back byte for byte.
TEST(WriteAll, WritesTheWholeBuffer) {
  char tmpl[] = "/tmp/gitdisc-writeall-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string data(3 << 20, 'x');
  data[12345] = 'y';
  ASSERT_TRUE(WriteAll(fd, data, tmpl).ok());
  std::string back(data.size() + 1, '\0');
  ASSERT_EQ(::pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(data.size()));
  back.resize(data.size());
  EXPECT_EQ(back, data);
  ::close(fd);
  ::unlink(tmpl);
}

TEST(WriteAll, NamesTheFileOnError) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // Writing to the read end fails with EBADF.
  Status s = WriteAll(fds[0], "z", "the image");
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("write the image"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace gitdisc
