#include "guest/line_reader.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

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

// A stream that always has data: the next chunk comes from `next` at once
// (never a read timeout), the way a flooding guest looks to the host.
class EndlessStream final : public ByteStream {
 public:
  explicit EndlessStream(std::function<std::string()> next) : next_(std::move(next)) {}
  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds) override {
    if (pending_.empty()) pending_ = next_();
    if (pending_.empty()) return size_t{0};  // end of stream
    size_t k = std::min(n, pending_.size());
    pending_.copy(buf, k);
    pending_.erase(0, k);
    ++reads;
    return k;
  }
  Status Write(std::string_view) override { return Status::Ok(); }
  void Close() override {}
  int reads = 0;

 private:
  std::function<std::string()> next_;
  std::string pending_;
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

TEST(LineReader, ALineOfExactlyTheBoundIsKeptOneMoreIsNot) {
  Pair p;
  LineReader r(p.b.get(), 16);
  ASSERT_TRUE(p.a->Write(std::string(15, 'a') + "\n" + std::string(16, 'b') + "\nc\n").ok());
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), std::string(15, 'a')) << "15 bytes + newline = 16";
  EXPECT_EQ(r.ReadLine(milliseconds(1000)).status().code(), Status::Code::kInvalid);
  EXPECT_EQ(*r.ReadLine(milliseconds(1000)), "c");
}

// 8 MB of empty lines: every byte is searched once (no re-scan of the
// buffer per line, no quadratic erase), so the work is the input's size.
// The counters prove it, not the clock: the deadline is only a backstop
// (one line at a time under ASan on a loaded machine took over a minute
// for 50 MB).
TEST(LineReader, ANewlineFloodIsSplitInLinearWork) {
  constexpr uint64_t kTotal = 8'000'000;
  uint64_t served = 0;
  EndlessStream s([&] {
    if (served >= kTotal) return std::string();
    served += 65536;
    return std::string(65536, '\n');
  });
  LineReader r(&s, 1 << 20);
  uint64_t lines = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  for (;;) {
    auto line = r.ReadLineUntil(deadline);
    if (!line.ok()) {
      ASSERT_EQ(line.status().code(), Status::Code::kUnavailable) << line.status().ToString();
      break;
    }
    ASSERT_TRUE(line->empty());
    ++lines;
  }
  EXPECT_EQ(lines, r.bytes_received());
  EXPECT_EQ(r.bytes_scanned(), r.bytes_received()) << "each byte searched exactly once";
  EXPECT_EQ(r.bytes_moved(), 0u) << "whole chunks of lines are consumed without moving bytes";
  EXPECT_GE(r.bytes_received(), kTotal);
}

// Lines that straddle reads: the buffer is compacted, and each byte moves
// at most about once.
TEST(LineReader, CompactionMovesEachByteAtMostOnce) {
  uint64_t served = 0;
  std::string unit = std::string(99, 'x') + "\n";
  EndlessStream s([&] {
    if (served >= 20'000'000) return std::string();
    served += 70001;
    std::string chunk;
    while (chunk.size() < 70001) chunk += unit;
    chunk.resize(70001);  // a line cut at every chunk boundary
    return chunk;
  });
  LineReader r(&s, 1 << 20);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (r.ReadLineUntil(deadline).ok()) {
  }
  EXPECT_LE(r.bytes_scanned(), r.bytes_received());
  EXPECT_LE(r.bytes_moved(), r.bytes_received());
}

// A line that never ends, arriving faster than any read timeout: reported
// once, dropped as it comes (bounded memory), and the deadline still ends
// the call although data never stops.
TEST(LineReader, AnEndlessLineIsDroppedAndCannotOutliveTheDeadline) {
  EndlessStream s([] { return std::string(65536, 'x'); });
  LineReader r(&s, 1 << 20);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  EXPECT_EQ(r.ReadLineUntil(deadline).status().code(), Status::Code::kInvalid);
  auto again = r.ReadLineUntil(deadline);
  EXPECT_EQ(again.status().code(), Status::Code::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_LT(std::chrono::steady_clock::now(), deadline + std::chrono::seconds(5));
  EXPECT_GT(r.bytes_received(), uint64_t{1} << 20);
  EXPECT_LE(r.buffered_bytes(), (uint64_t{1} << 20) + 65536) << "the endless line is not kept";
  EXPECT_EQ(r.pending_bytes(), r.bytes_received()) << "all of it is one unfinished line";
}

// A peer that drips one byte per read, each well within the read timeout:
// the deadline is what ends the wait, not a quiet channel.
TEST(LineReader, ADripFeedCannotExtendTheDeadline) {
  EndlessStream s([] {
    std::this_thread::sleep_for(milliseconds(2));
    return std::string("y");
  });
  LineReader r(&s, 1 << 20);
  auto start = std::chrono::steady_clock::now();
  auto line = r.ReadLineUntil(start + milliseconds(200));
  EXPECT_EQ(line.status().code(), Status::Code::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_GT(s.reads, 10);
  EXPECT_EQ(r.pending_bytes(), static_cast<uint64_t>(s.reads));
}

}  // namespace
}  // namespace gitdisc::guest
