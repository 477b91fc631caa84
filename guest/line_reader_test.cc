#include "guest/line_reader.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;

struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = MakeFdStream(fds[0]);
    b = MakeFdStream(fds[1]);
  }
  std::unique_ptr<ByteStream> a, b;
};

TEST(LineReader, SplitsLinesAcrossReads) {
  Pair p;
  LineReader r(p.b.get(), 100);
  ASSERT_TRUE(p.a->Write("one\ntw").ok());
  auto l1 = r.ReadLine(milliseconds(1000));
  ASSERT_TRUE(l1.ok());
  EXPECT_EQ(*l1, "one");
  auto partial = r.ReadLine(milliseconds(50));
  EXPECT_EQ(partial.status().code(), Status::Code::kTimeout);
  ASSERT_TRUE(p.a->Write("o\n\nthree\n").ok());
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), "two");
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), "");
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), "three");
}

TEST(LineReader, SkipsAnOverlongLineAndResyncsAtTheNextNewline) {
  Pair p;
  LineReader r(p.b.get(), 16);
  ASSERT_TRUE(p.a->Write(std::string(40, 'x')).ok());
  auto bad = r.ReadLine(milliseconds(1000));
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalid);
  ASSERT_TRUE(p.a->Write(std::string(40, 'y') + "\nfine\n").ok());
  auto good = r.ReadLine(milliseconds(1000));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(*good, "fine");
}

TEST(LineReader, OverlongLineInOneChunkIsReportedOnce) {
  Pair p;
  LineReader r(p.b.get(), 16);
  ASSERT_TRUE(p.a->Write(std::string(20, 'x') + "\nok\n").ok());
  EXPECT_EQ(r.ReadLine(milliseconds(1000)).status().code(), Status::Code::kInvalid);
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), "ok");
}

TEST(LineReader, EndOfStreamIsUnavailable) {
  Pair p;
  LineReader r(p.b.get(), 16);
  p.a->Close();
  EXPECT_EQ(r.ReadLine(milliseconds(1000)).status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace gitdisc::guest
