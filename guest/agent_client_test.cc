// The host's bounds on what a guest sends (docs/security.md, "A hostile
// guest"): every attack of tests/support/hostile_agent.h over a real
// socketpair, plus streams scripted byte by byte where timing matters. Each
// test says which bound cut the guest off and checks that the call ended
// promptly, read a bounded amount, and quoted nothing unbounded.
#include "guest/agent_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <thread>

#include "tests/support/hostile_agent.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using testing::HostileAgent;
using testing::Hostility;
using SteadyClock = std::chrono::steady_clock;

AgentClient::Options Fast() {
  AgentClient::Options o;
  o.request_timeout = milliseconds(300);
  o.max_attempts = 2;
  o.status_interval = milliseconds(200);
  return o;
}

// A host end and a hostile guest end on a socketpair.
struct Hostile {
  explicit Hostile(Hostility h, AgentClient::Options o = Fast()) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    client = std::make_unique<AgentClient>(MakeFdStream(fds[0]), o);
    guest = std::make_unique<HostileAgent>(h, MakeFdStream(fds[1]));
  }
  ~Hostile() {
    client.reset();  // closes the host end: the flood's writes fail
    guest.reset();
  }
  std::unique_ptr<AgentClient> client;
  std::unique_ptr<HostileAgent> guest;
};

// A stream scripted by the test: Read serves what `next` returns (at once;
// "" = nothing within the timeout), Write records.
class ScriptedStream final : public ByteStream {
 public:
  explicit ScriptedStream(std::function<std::string()> next) : next_(std::move(next)) {}
  Result<size_t> Read(char* buf, size_t n, milliseconds timeout) override {
    if (closed_) return Status::Io("closed");
    if (pending_.empty()) pending_ = next_();
    if (pending_.empty()) {
      std::this_thread::sleep_for(std::min(timeout, milliseconds(5)));
      return Status::Timeout("nothing");
    }
    size_t k = std::min(n, pending_.size());
    pending_.copy(buf, k);
    pending_.erase(0, k);
    return k;
  }
  Status Write(std::string_view d) override {
    if (closed_) return Status::Io("closed");
    written += d;
    return Status::Ok();
  }
  void Close() override { closed_ = true; }
  std::string written;

 private:
  std::function<std::string()> next_;
  std::string pending_;
  bool closed_ = false;
};

// Runs `call` and checks that it was cut off for `bound` within `limit`.
template <typename Call>
void ExpectCutOff(AgentClient& c, const std::string& bound, Call call,
                  milliseconds limit = milliseconds(5000)) {
  auto start = SteadyClock::now();
  auto r = call();
  auto took = SteadyClock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorrupt) << r.status().ToString();
  EXPECT_EQ(r.status().message().rfind("agent misbehaving: ", 0), 0u) << r.status().message();
  EXPECT_LT(r.status().message().size(), 300u) << "nothing the guest sent is quoted unbounded";
  ASSERT_TRUE(c.misbehaviour().has_value());
  EXPECT_EQ(c.misbehaviour()->bound, bound) << c.misbehaviour()->detail;
  EXPECT_LT(took, limit);
  // Cut off for good: the next call fails at once, the same way.
  auto again = c.Ledger();
  EXPECT_EQ(again.status().code(), Status::Code::kCorrupt);
}

TEST(AgentClientBounds, ANewlineFloodIsCutOffAsJunk) {
  Hostile h(Hostility::kNewlineFlood);
  ExpectCutOff(*h.client, "JunkLines", [&] { return h.client->Hello(); });
  EXPECT_LT(h.client->bytes_received(), 4u << 20) << "read a bounded amount";
  EXPECT_LE(h.client->bytes_scanned(), 65u) << "65 blank lines searched, then cut off";
}

TEST(AgentClientBounds, AJunkJsonFloodIsCutOffAsJunk) {
  Hostile h(Hostility::kJunkJsonFlood);
  ExpectCutOff(*h.client, "JunkLines", [&] { return h.client->Hello(); });
  EXPECT_NE(h.client->misbehaviour()->detail.find("nonsense"), std::string::npos)
      << "the detail quotes a short piece of the junk: " << h.client->misbehaviour()->detail;
}

TEST(AgentClientBounds, AnEndlessLineIsCutOffAtTheLineBound) {
  Hostile h(Hostility::kEndlessLine);
  ExpectCutOff(*h.client, "LineTooLong", [&] { return h.client->Hello(); });
  EXPECT_LT(h.client->bytes_received(), 4u << 20);
}

TEST(AgentClientBounds, ALineThatDripsForeverEndsByTheCallDeadline) {
  Hostile h(Hostility::kDripLine);
  // Two attempts of 300 ms: no byte stream extends that.
  ExpectCutOff(*h.client, "LineNotEnded", [&] { return h.client->Hello(); }, milliseconds(2000));
}

TEST(AgentClientBounds, StaleRepliesAtFloodRateHitTheLineBound) {
  Hostile h(Hostility::kStaleReplyFlood);
  ExpectCutOff(*h.client, "TooManyLines", [&] { return h.client->Hello(); });
}

TEST(AgentClientBounds, AMuteAgentIsATimeoutNotMisbehaviour) {
  Hostile h(Hostility::kMute);
  auto start = SteadyClock::now();
  auto r = h.client->Hello();
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout) << r.status().ToString();
  EXPECT_FALSE(h.client->misbehaviour().has_value());
  EXPECT_LT(SteadyClock::now() - start, milliseconds(2000));
}

TEST(AgentClientBounds, AnEventFloodDuringAnApplyIsCutOff) {
  Hostile h(Hostility::kEventFloodOnApply);
  ASSERT_TRUE(h.client->Hello().ok());
  ASSERT_TRUE(h.client->Ledger().ok());
  auto accepted = h.client->Apply("op-1", std::string(64, 'a'), {"p"});
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  int seen = 0;
  ExpectCutOff(*h.client, "TooManyEvents", [&] {
    return h.client->WaitForDone("op-1", SteadyClock::now() + std::chrono::minutes(5),
                                 [&](const AgentMessage&) { ++seen; });
  });
  EXPECT_LE(seen, 1024) << "events handed on are bounded too";
}

// Events (valid ones) during a call are queued for WaitForDone, within bounds.
TEST(AgentClientBounds, EventsQueuedDuringCallsAreBounded) {
  AgentClient::Options o = Fast();
  o.limits.max_queued_events = 10;
  std::string event = EncodeAgentMessage(ProgressEvent{"op", "", "run", "x"});
  auto stream = std::make_unique<ScriptedStream>([&] { return event; });
  ScriptedStream* raw = stream.get();  // owned by the client below
  AgentClient c(std::move(stream), o);
  ExpectCutOff(c, "EventQueueFull", [&] { return c.Hello(); });
  EXPECT_TRUE(raw->written.find("hello") != std::string::npos);
}

TEST(AgentClientBounds, BytesPerCallAreBounded) {
  AgentClient::Options o = Fast();
  o.limits.max_bytes_per_call = 64 * 1024;
  std::string stale =
      EncodeAgentMessage(HelloReply{12345678, kProtocolVersion, std::string(4000, 'v'), {}});
  AgentClient c(std::make_unique<ScriptedStream>([&] { return stale; }), o);
  ExpectCutOff(c, "TooManyBytes", [&] { return c.Hello(); });
}

// Valid but useless lines, each well within the read timeout: the call still
// ends by max_attempts x request_timeout, as a timeout (not misbehaviour:
// below every count bound).
TEST(AgentClientBounds, ADripOfEventsCannotExtendTheCallDeadline) {
  std::string event = EncodeAgentMessage(ProgressEvent{"op", "", "run", "x"});
  int served = 0;
  AgentClient c(std::make_unique<ScriptedStream>([&] {
                  std::this_thread::sleep_for(milliseconds(20));
                  ++served;
                  return event;
                }),
                Fast());
  auto start = SteadyClock::now();
  auto r = c.Hello();
  auto took = SteadyClock::now() - start;
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout) << r.status().ToString();
  EXPECT_GE(took, milliseconds(550));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_GT(served, 10);
}

TEST(AgentClientBounds, SetDeadlineEndsEveryCallByThen) {
  Hostile h(Hostility::kMute, [] {
    AgentClient::Options o;
    o.request_timeout = std::chrono::seconds(10);
    o.max_attempts = 3;
    return o;
  }());
  h.client->SetDeadline(SteadyClock::now() + milliseconds(300));
  auto start = SteadyClock::now();
  EXPECT_EQ(h.client->Hello().status().code(), Status::Code::kTimeout);
  EXPECT_LT(SteadyClock::now() - start, milliseconds(2000));
}

// The honest agent inside these bounds: guest/agent_test.cc (every exchange,
// real applies, default limits).

TEST(QuoteUntrusted, EscapesAndCuts) {
  EXPECT_EQ(QuoteUntrusted("plain"), "plain");
  EXPECT_EQ(QuoteUntrusted(std::string("a\nb\x1b[2J\\", 8)), "a\\x0ab\\x1b[2J\\x5c");
  EXPECT_EQ(QuoteUntrusted(std::string(500, 'z'), 10), std::string(10, 'z') + "... (500 bytes)");
}

}  // namespace
}  // namespace gitdisc::guest
