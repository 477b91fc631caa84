#include "serve/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace gitdisc::serve {
namespace {

HeadLimits Small() {
  HeadLimits l;
  l.max_bytes = 256;
  l.max_lines = 4;
  return l;
}

TEST(ScanHead, FindsTheEndOfAHeadArrivingByteByByte) {
  std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBODY";
  for (size_t n = 0; n < head.size(); ++n) {
    HeadScan s = ScanHead(std::string_view(head).substr(0, n), Small());
    size_t end = head.find("BODY");
    if (n < end) {
      EXPECT_EQ(s.state, HeadScan::State::kIncomplete) << n;
    } else {
      EXPECT_EQ(s.state, HeadScan::State::kComplete) << n;
      EXPECT_EQ(s.length, end);
    }
  }
}

TEST(ScanHead, ALineWithoutANewlineIsRefusedAtTheByteLimit) {
  std::string endless = "GET / HTTP/1.1\r\nX-Slow: " + std::string(232, 'a');
  EXPECT_EQ(ScanHead(endless.substr(0, 256), Small()).state, HeadScan::State::kIncomplete);
  EXPECT_EQ(ScanHead(endless + "a", Small()).state, HeadScan::State::kTooLarge);
  // Also when the limit falls inside a line that does end later.
  EXPECT_EQ(ScanHead(endless + "\r\n\r\n", Small()).state, HeadScan::State::kTooLarge);
}

TEST(ScanHead, TooManyHeaderLinesAreRefused) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 4; ++i) head += "A: b\r\n";
  EXPECT_EQ(ScanHead(head + "\r\n", Small()).state, HeadScan::State::kComplete);
  EXPECT_EQ(ScanHead(head + "A: b\r\n", Small()).state, HeadScan::State::kTooManyLines);
  // Bare newlines count as lines too: a flood of them is bounded.
  EXPECT_EQ(ScanHead("GET / HTTP/1.1\r\n\n\n\n\n\n\n", Small()).state,
            HeadScan::State::kTooManyLines);
}

TEST(ScanHead, OnlyACrlfLineEndsTheHeadLikeCppHttplib) {
  EXPECT_EQ(ScanHead("GET / HTTP/1.1\r\nHost: x\n\n", Small()).state,
            HeadScan::State::kIncomplete);
  EXPECT_EQ(ScanHead("GET / HTTP/1.1\r\nHost: x\n\r\n", Small()).state,
            HeadScan::State::kComplete);
}

TEST(ParseHead, ReadsWhatTheListenerNeeds) {
  auto h = ParseHead(
      "POST /hooks/github?x=1 HTTP/1.1\r\nHost: gitdisc.example:9420\r\n"
      "content-length: 12\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->method, "POST");
  EXPECT_EQ(h->target, "/hooks/github?x=1");
  EXPECT_EQ(h->path, "/hooks/github");
  EXPECT_EQ(h->content_length, 12u);
  EXPECT_EQ(h->host, "gitdisc.example:9420");
  EXPECT_TRUE(h->expect_continue);
  EXPECT_FALSE(h->connection_close);
  EXPECT_FALSE(h->transfer_encoding);

  auto te = ParseHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(te);
  EXPECT_TRUE(te->transfer_encoding);
  EXPECT_FALSE(te->content_length);
  auto old = ParseHead("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->connection_close);
  auto close = ParseHead("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(close);
  EXPECT_TRUE(close->connection_close);
}

TEST(ParseHead, RefusesAmbiguousFraming) {
  for (const char* bad : {
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
           "POST / HTTP/1.1\r\n: no name\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
           "GET /  HTTP/1.1\r\n\r\n",
           "GET / HTTP/2\r\n\r\n",
           "get / HTTP/1.1\r\n\r\n",
           "GET\r\n\r\n",
           "GET / HTTP/1.1\n\r\n",
       }) {
    EXPECT_FALSE(ParseHead(bad)) << bad;
  }
  auto same = ParseHead("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->content_length, 3u);
}

TEST(MethodNeedsLength, MethodsThatCarryABody) {
  for (const char* m : {"POST", "PUT", "PATCH"}) EXPECT_TRUE(MethodNeedsLength(m));
  for (const char* m : {"GET", "HEAD", "OPTIONS", "DELETE"}) EXPECT_FALSE(MethodNeedsLength(m));
}

}  // namespace
}  // namespace gitdisc::serve
