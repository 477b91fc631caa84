// HttpListener against real loopback sockets: every bound holds however the
// bytes arrive, and the health lane answers while the work lane is stuck.
// Clients connect from 127.0.0.x addresses so per-client limits can be seen.
#include "serve/http_listener.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "tests/support/raw_http_client.h"

namespace gitdisc::serve {
namespace {

using test_support::RawHttpClient;
using test_support::StatusCodeOf;
using namespace std::chrono_literals;

class ListenerTest : public ::testing::Test {
 protected:
  void Start(HttpLimits limits) {
    HttpListener::Handlers h;
    h.classify = [](const RequestHead& head) {
      return head.path == "/healthz" ? Lane::kHealth : Lane::kWork;
    };
    h.serve = [this](HttpConnection& c, bool close) { return Serve(c, close); };
    h.refused = [this](Refusal why, const std::string&) {
      std::lock_guard<std::mutex> l(mu_);
      ++refused_[why];
    };
    listener_ = std::make_unique<HttpListener>(limits, std::move(h));
    ASSERT_TRUE(listener_->Start("127.0.0.1", 0).ok());
  }
  void TearDown() override {
    Unblock();
    if (listener_) listener_->Stop();
  }

  // Answers "<path> <body length>"; /block waits until Unblock().
  bool Serve(HttpConnection& c, bool close) {
    std::string body;
    char buf[4096];
    for (size_t n; (n = c.Read(buf, sizeof buf)) > 0;) body.append(buf, n);
    if (c.head().path == "/block") {
      std::unique_lock<std::mutex> l(mu_);
      ++blocked_;
      cv_.notify_all();
      cv_.wait(l, [&] { return unblocked_; });
    }
    size_t head_end = body.find("\r\n\r\n");
    std::string text = c.head().path + " " + std::to_string(body.size() - head_end - 4);
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(text.size()) +
                       (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + text;
    return c.Write(resp.data(), resp.size());
  }
  void WaitBlocked(int n) {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, 5s, [&] { return blocked_ >= n; }));
  }
  void Unblock() {
    std::lock_guard<std::mutex> l(mu_);
    unblocked_ = true;
    cv_.notify_all();
  }
  int Refused(Refusal r) {
    std::lock_guard<std::mutex> l(mu_);
    return refused_[r];
  }
  RawHttpClient Client(const std::string& from = "127.0.0.1") {
    auto c = RawHttpClient::Connect(from, "127.0.0.1", listener_->port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  int Get(const std::string& path, const std::string& from = "127.0.0.1") {
    RawHttpClient c = Client(from);
    c.Send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.ReadResponse(3s);
    return r ? StatusCodeOf(*r) : 0;
  }

  std::unique_ptr<HttpListener> listener_;
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool unblocked_ = false;
  std::map<Refusal, int> refused_;
};

TEST_F(ListenerTest, ServesWholeRequestsKeepsAliveAndPipelines) {
  Start(HttpLimits{});
  RawHttpClient c = Client();
  c.Send("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  auto r = c.ReadResponse(3s);
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, ::testing::EndsWith("/a 5"));
  // Two requests in one write, on the same connection.
  c.Send("GET /b HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
  auto b = c.ReadResponse(3s);
  auto d = c.ReadResponse(3s);
  ASSERT_TRUE(b && d);
  EXPECT_THAT(*b, ::testing::EndsWith("/b 0"));
  EXPECT_THAT(*d, ::testing::EndsWith("/c 2"));
}

TEST_F(ListenerTest, ASlowlorisHeadIsCutAtTheHeadDeadline) {
  HttpLimits l;
  l.head_timeout = 400ms;
  Start(l);
  RawHttpClient c = Client("127.0.0.2");
  std::string head = "GET /slow HTTP/1.1\r\nX-A: " + std::string(200, 'a') + "\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  size_t i = 0;
  // One byte every 20 ms: each read is quick, the head never completes in time.
  while (i < head.size() && c.Send(head.substr(i++, 1))) {
    if (!c.ReadUntil(20ms).empty()) break;
  }
  EXPECT_EQ(StatusCodeOf(c.received()), 408);
  EXPECT_TRUE(c.Closed(3s));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1500ms);
  EXPECT_GE(took, 390ms);
  EXPECT_EQ(Refused(Refusal::kHeadTimeout), 1);
}

TEST_F(ListenerTest, AnIdleConnectionIsClosedAtTheHeadDeadline) {
  HttpLimits l;
  l.head_timeout = 300ms;
  Start(l);
  {
    RawHttpClient c = Client("127.0.0.2");
    EXPECT_TRUE(c.Closed(2s));
    EXPECT_EQ(StatusCodeOf(c.received()), 408);
  }
  // Answered and drained: gone once the client closes (or the linger ends).
  for (int i = 0; i < 100 && listener_->connections() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(listener_->connections(), 0);
}

TEST_F(ListenerTest, AnEndlessHeaderLineGets431WithoutGrowing) {
  Start(HttpLimits{});
  RawHttpClient c = Client("127.0.0.2");
  c.Send("GET / HTTP/1.1\r\nX-Endless: ");
  std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 64 && c.Send(chunk); ++i) {
  }
  EXPECT_EQ(StatusCodeOf(c.ReadUntil(3s, "\r\n\r\n")), 431);
  EXPECT_EQ(Refused(Refusal::kHeadTooLarge), 1);
}

TEST_F(ListenerTest, BodiesNeedALengthAndALimit) {
  Start(HttpLimits{});
  auto status = [&](const std::string& request) {
    RawHttpClient c = Client("127.0.0.3");
    c.Send(request);
    int code = StatusCodeOf(c.ReadUntil(3s, "\r\n\r\n"));
    EXPECT_TRUE(c.Closed(3s)) << request;
    return code;
  };
  EXPECT_EQ(status("POST /hooks/x HTTP/1.1\r\n\r\nbody without length, forever..."), 411);
  EXPECT_EQ(status("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), 411);
  EXPECT_EQ(status("PUT /x HTTP/1.1\r\n\r\n"), 411);
  EXPECT_EQ(status("POST /x HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n"), 413);
  EXPECT_EQ(status("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
  EXPECT_EQ(Refused(Refusal::kLengthRequired), 3);
  EXPECT_EQ(Refused(Refusal::kBodyTooLarge), 1);
  EXPECT_EQ(Refused(Refusal::kBadRequest), 1);
}

TEST_F(ListenerTest, ASlowBodyIsCutAtTheBodyDeadline) {
  HttpLimits l;
  l.body_timeout = 300ms;
  Start(l);
  RawHttpClient c = Client("127.0.0.2");
  c.Send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly a part");
  EXPECT_EQ(StatusCodeOf(c.ReadUntil(3s, "\r\n\r\n")), 408);
  EXPECT_EQ(Refused(Refusal::kBodyTimeout), 1);
}

TEST_F(ListenerTest, AClientOverItsShareIsRefusedOthersAreNot) {
  HttpLimits l;
  l.max_per_client = 4;
  Start(l);
  std::vector<RawHttpClient> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(Client("127.0.0.2"));
  RawHttpClient extra = Client("127.0.0.2");
  EXPECT_EQ(StatusCodeOf(extra.ReadUntil(3s, "\r\n\r\n")), 503);
  EXPECT_TRUE(extra.Closed(3s));
  EXPECT_EQ(Get("/healthz", "127.0.0.1"), 200);
  EXPECT_EQ(Refused(Refusal::kPerClient), 1);
}

TEST_F(ListenerTest, WhenFullTheLongestWaitingConnectionOfTheBiggestClientMakesRoom) {
  HttpLimits l;
  l.max_connections = 8;
  l.max_per_client = 6;
  Start(l);
  std::vector<RawHttpClient> a, b;
  for (int i = 0; i < 6; ++i) a.push_back(Client("127.0.0.2"));
  for (int i = 0; i < 2; ++i) b.push_back(Client("127.0.0.3"));
  std::this_thread::sleep_for(100ms);  // the loop has admitted them all
  EXPECT_EQ(listener_->connections(), 8);
  EXPECT_EQ(Get("/healthz", "127.0.0.1"), 200);
  EXPECT_TRUE(a[0].Closed(2s)) << "the oldest of the biggest client went";
  EXPECT_FALSE(b[0].Closed(100ms));
  EXPECT_EQ(Refused(Refusal::kEvicted), 1);
}

TEST_F(ListenerTest, HealthIsAnsweredWhileTheWorkLaneIsStuckAndFullWorkIsShed) {
  HttpLimits l;
  l.work_threads = 1;
  l.work_queue = 1;
  Start(l);
  RawHttpClient first = Client("127.0.0.2");
  first.Send("GET /block HTTP/1.1\r\n\r\n");
  WaitBlocked(1);
  RawHttpClient queued = Client("127.0.0.2");
  queued.Send("GET /block HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  RawHttpClient shed = Client("127.0.0.2");
  shed.Send("GET /block HTTP/1.1\r\n\r\n");
  auto r = shed.ReadUntil(3s, "\r\n\r\n");
  EXPECT_EQ(StatusCodeOf(r), 503);
  EXPECT_THAT(r, ::testing::HasSubstr("Retry-After: 1"));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get("/healthz"), 200);
  Unblock();
  EXPECT_TRUE(first.ReadResponse(3s));
  EXPECT_TRUE(queued.ReadResponse(3s));
  EXPECT_EQ(Refused(Refusal::kShed), 1);
}

TEST_F(ListenerTest, StopClosesEverythingAndReturnsWhileClientsIdle) {
  Start(HttpLimits{});
  std::vector<RawHttpClient> idle;
  for (int i = 0; i < 50; ++i) idle.push_back(Client("127.0.0.4"));
  auto start = std::chrono::steady_clock::now();
  listener_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(idle[0].Closed(1s));
}

TEST(ClientKey, GroupsIpv6ByPrefixAndUnmapsIpv4) {
  EXPECT_EQ(ClientKey("127.0.0.2"), "127.0.0.2");
  EXPECT_EQ(ClientKey("::ffff:10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(ClientKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
}

}  // namespace
}  // namespace gitdisc::serve
