// Host AgentClient <-> Agent over a socketpair, with a real bundle ISO file
// (written by iso/) standing in for the CD-ROM drive. Mounting a plain file
// fails (ENOTBLK), so these runs take the extract fallback; the mount path is
// covered by the real-guest test (tests/guest/).
#include "guest/agent.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "base/file_util.h"
#include "guest/agent_client.h"
#include "guest/line_reader.h"
#include "guest/test_bundle.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using testing::ScriptPayload;
using testing::TempDir;
using testing::WriteBundle;

// The real Linux system, except that reboots are only counted.
class RecordingSystem final : public AgentSystem {
 public:
  explicit RecordingSystem(std::atomic<int>* reboots) : reboots_(reboots) {}
  std::vector<std::string> ListDiscDevices() override { return {}; }
  Status Mount(const std::string& d, const std::string& m) override {
    mounts_attempted++;
    return real_->Mount(d, m);
  }
  Status Unmount(const std::string& m) override { return real_->Unmount(m); }
  Status UnlockDrive(const std::string& d) override { return real_->UnlockDrive(d); }
  void Reboot() override { ++*reboots_; }
  int mounts_attempted = 0;

 private:
  std::unique_ptr<AgentSystem> real_ = MakeLinuxAgentSystem();
  std::atomic<int>* reboots_;
};

int CountLines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // As in gitdisc-agent's main: a host that hung up must not kill the agent.
    ::signal(SIGPIPE, SIG_IGN);
    out_ = tmp_ / "effects.log";
    AgentOptions o;
    o.state_dir = tmp_ / "state";
    o.discs = {tmp_ / "disc.iso"};
    o.disc_retry = milliseconds(300);
    o.kill_grace = milliseconds(200);
    o.reboot_delay = milliseconds(0);
    auto a = Agent::Create(o, std::make_unique<RecordingSystem>(&reboots_));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    agent_ = std::move(*a);
    Connect();
  }
  void TearDown() override {
    Disconnect();
    agent_.reset();
  }

  void Connect() {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    host_end_ = MakeFdStream(fds[0]);
    agent_end_ = MakeFdStream(fds[1]);
    ByteStream* s = agent_end_.get();
    server_ = std::thread([this, s] { (void)agent_->Serve(s); });
    AgentClient::Options co;
    co.request_timeout = milliseconds(5000);
    co.status_interval = milliseconds(500);
    // The client owns a forwarding view so tests can also write raw bytes.
    client_ = std::make_unique<AgentClient>(std::make_unique<Forward>(host_end_.get()), co);
  }
  void Disconnect() {
    client_.reset();
    if (host_end_) host_end_->Close();
    if (server_.joinable()) server_.join();
    agent_end_.reset();
    host_end_.reset();
  }

  // A payload that appends "<name> <GITDISC_*...>" to the effects log.
  iso::BundlePayload Effect(const std::string& name, std::vector<std::string> after = {}) {
    return ScriptPayload(name,
                         "echo \"$GITDISC_PAYLOAD $GITDISC_VERSION $GITDISC_REVISION "
                         "$GITDISC_OP_ID cwd=$(pwd) scratch=$GITDISC_SCRATCH\" >> \"$OUT\"\n"
                         "test -w \"$GITDISC_SCRATCH\" || exit 9\n"
                         "cat data/readme.txt\n",
                         {{"OUT", out_}}, std::move(after));
  }

  std::string Disc(std::vector<iso::BundlePayload> payloads) {
    std::string err;
    std::string digest = WriteBundle(std::move(payloads), tmp_ / "disc.iso", &err);
    EXPECT_FALSE(digest.empty()) << err;
    return digest;
  }

  DoneEvent ApplyAndWait(const std::string& op, const std::string& digest,
                         const std::vector<std::string>& names,
                         std::vector<AgentMessage>* events = nullptr) {
    auto acc = client_->Apply(op, digest, names);
    EXPECT_TRUE(acc.ok()) << acc.status().ToString();
    auto done = client_->WaitForDone(op, std::chrono::steady_clock::now() + std::chrono::minutes(2),
                                     [&](const AgentMessage& m) {
                                       if (events) events->push_back(m);
                                     });
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return done.ok() ? *done : DoneEvent{};
  }

  struct Forward final : ByteStream {
    explicit Forward(ByteStream* s) : s(s) {}
    Result<size_t> Read(char* b, size_t n, milliseconds t) override { return s->Read(b, n, t); }
    Status Write(std::string_view d) override { return s->Write(d); }
    void Close() override { s->Close(); }
    ByteStream* s;
  };

  TempDir tmp_;
  std::string out_;
  std::atomic<int> reboots_{0};
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<ByteStream> host_end_, agent_end_;
  std::thread server_;
  std::unique_ptr<AgentClient> client_;
};

TEST_F(AgentTest, HelloAndEmptyLedger) {
  auto hello = client_->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(hello->protocol, kProtocolVersion);
  EXPECT_FALSE(hello->agent_version.empty());
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  EXPECT_TRUE(ledger->empty());
}

TEST_F(AgentTest, AppliesInAfterOrderWithTheRunEnvironmentAndRecordsIt) {
  std::string digest = Disc({Effect("first"), Effect("second", {"first"}), Effect("unasked")});
  std::vector<AgentMessage> events;
  DoneEvent done = ApplyAndWait("op-1", digest, {"second", "first"}, &events);
  ASSERT_EQ(done.results.size(), 2u);
  EXPECT_EQ(done.results[0].payload, "first");
  EXPECT_EQ(done.results[1].payload, "second");
  for (const auto& r : done.results) {
    EXPECT_EQ(r.result, Outcome::kOk) << r.output_tail;
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.op_id, "op-1");
    EXPECT_EQ(r.output_tail, "payload " + r.payload + "\n");
    EXPECT_FALSE(r.started_at.empty());
  }
  EXPECT_TRUE(done.disc_released);
  EXPECT_FALSE(done.reboot);

  auto effects = ReadFile(out_);
  ASSERT_TRUE(effects.ok());
  std::string root = tmp_ / "state/run/extract";
  EXPECT_EQ(*effects, "first 1 test-revision op-1 cwd=" + root + "/first scratch=" + tmp_.path() +
                          "/state/scratch/first\n" + "second 1 test-revision op-1 cwd=" + root +
                          "/second scratch=" + tmp_.path() + "/state/scratch/second\n");
  // The extract fallback ran (a plain file cannot be mounted) and was cleaned up.
  bool saw_extract = false, saw_result = false;
  for (const auto& e : events) {
    if (auto* p = std::get_if<ProgressEvent>(&e)) saw_extract |= p->phase == "extract";
    saw_result |= std::holds_alternative<ResultEvent>(e);
  }
  EXPECT_TRUE(saw_extract);
  EXPECT_TRUE(saw_result);
  EXPECT_FALSE(PathExists(root));

  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].payload, "first");
  EXPECT_EQ((*ledger)[0].result, Outcome::kOk);
}

TEST_F(AgentTest, SameOpIdRunsNothingAgainAndReturnsTheRecordedResults) {
  std::string digest = Disc({Effect("first")});
  DoneEvent first = ApplyAndWait("op-1", digest, {"first"});
  ASSERT_EQ(CountLines(out_), 1);
  auto acc = client_->Apply("op-1", digest, {"first"});
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->state, OpState::kFinished);
  auto again =
      client_->WaitForDone("op-1", std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->results, first.results);
  EXPECT_EQ(CountLines(out_), 1);
}

TEST_F(AgentTest, AppliedPayloadIsNotRerunByANewOp) {
  std::string digest = Disc({Effect("first"), Effect("second")});
  ApplyAndWait("op-1", digest, {"first"});
  DoneEvent d = ApplyAndWait("op-2", digest, {"first", "second"});
  ASSERT_EQ(d.results.size(), 2u);
  EXPECT_EQ(d.results[0].result, Outcome::kOk);
  EXPECT_EQ(d.results[0].op_id, "op-1");  // the record of the run that applied it
  EXPECT_EQ(d.results[1].op_id, "op-2");
  EXPECT_EQ(CountLines(out_), 2);  // first once, second once
}

TEST_F(AgentTest, DigestOtherThanTheHostsIsRefusedAndNothingRuns) {
  std::string digest = Disc({Effect("first")});
  std::string other(64, '0');
  ASSERT_NE(digest, other);
  DoneEvent d = ApplyAndWait("op-x", other, {"first"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kRefused);
  EXPECT_NE(d.message.find("not the expected"), std::string::npos) << d.message;
  EXPECT_FALSE(PathExists(out_));
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  EXPECT_TRUE(ledger->empty());
}

TEST_F(AgentTest, TamperedFileOnTheDiscIsRefusedAndNothingRuns) {
  std::string digest = Disc({Effect("first")});
  // Change one byte of a payload file inside the image: same manifest, wrong content.
  auto image = ReadFile(tmp_ / "disc.iso");
  ASSERT_TRUE(image.ok());
  size_t at = image->find("payload first\n");
  ASSERT_NE(at, std::string::npos);
  (*image)[at] = 'P';
  ASSERT_TRUE(WriteFileAtomic(tmp_ / "disc.iso", *image).ok());
  DoneEvent d = ApplyAndWait("op-t", digest, {"first"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kRefused);
  EXPECT_NE(d.message.find("does not match its manifest"), std::string::npos) << d.message;
  EXPECT_FALSE(PathExists(out_));
}

TEST_F(AgentTest, SymlinkLeavingItsPayloadFolderIsRefusedAndNothingRuns) {
  auto link = [](std::string path, std::string target) {
    iso::BundleFile f;
    f.path = std::move(path);
    f.mode = 0777;
    f.size = target.size();
    f.symlink_target = std::move(target);
    return f;
  };
  iso::BundlePayload inside = Effect("inside");
  inside.files.push_back(link("sub/ok", "../install.sh"));
  iso::BundlePayload outside = Effect("outside");
  outside.files.push_back(link("passwd", "../../etc/passwd"));
  std::string digest = Disc({inside, outside});

  DoneEvent ok = ApplyAndWait("op-in", digest, {"inside"});
  ASSERT_EQ(ok.results.size(), 1u);
  EXPECT_EQ(ok.results[0].result, Outcome::kOk) << ok.message;

  DoneEvent d = ApplyAndWait("op-out", digest, {"outside"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kRefused);
  EXPECT_NE(d.message.find("leaves the payload folder"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("passwd"), std::string::npos) << d.message;
  EXPECT_TRUE(d.disc_released);
  auto effects = ReadFile(out_);
  ASSERT_TRUE(effects.ok());
  EXPECT_NE(effects->find("inside "), std::string::npos);
  EXPECT_EQ(effects->find("outside "), std::string::npos) << "nothing of the refused payload ran";
}

TEST_F(AgentTest, MissingDiscAndMissingPayloadAreRefused) {
  DoneEvent d = ApplyAndWait("op-none", std::string(64, 'a'), {"first"});
  EXPECT_EQ(d.results.at(0).result, Outcome::kRefused);
  std::string digest = Disc({Effect("first")});
  d = ApplyAndWait("op-missing", digest, {"first", "nope"});
  EXPECT_EQ(d.results.at(0).result, Outcome::kRefused);
  EXPECT_NE(d.message.find("nope is not on the disc"), std::string::npos) << d.message;
  EXPECT_FALSE(PathExists(out_));
}

TEST_F(AgentTest, FailingPayloadReportsExitCodeAndTailAndSkipsTheRest) {
  std::string digest = Disc(
      {ScriptPayload("broken", "echo about to fail; echo oops >&2; exit 3\n"), Effect("later")});
  DoneEvent d = ApplyAndWait("op-f", digest, {"broken", "later"});
  ASSERT_EQ(d.results.size(), 2u);
  EXPECT_EQ(d.results[0].result, Outcome::kFailed);
  EXPECT_EQ(d.results[0].exit_code, 3);
  EXPECT_EQ(d.results[0].output_tail, "about to fail\noops\n");
  EXPECT_EQ(d.results[1].result, Outcome::kSkipped);
  EXPECT_TRUE(d.disc_released);
  EXPECT_FALSE(PathExists(out_));
  // A failed run is recorded but is not "applied".
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].result, Outcome::kFailed);
}

TEST_F(AgentTest, TimeoutFromTheManifestKillsThePayload) {
  std::string digest =
      Disc({ScriptPayload("slow", "echo waiting; sleep 1000\n", {}, {}, "never", 1)});
  DoneEvent d = ApplyAndWait("op-slow", digest, {"slow"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kTimeout);
  EXPECT_NE(d.results[0].output_tail.find("waiting"), std::string::npos);
}

TEST_F(AgentTest, RebootRequestedIsRecordedReportedThenRebooted) {
  std::string digest =
      Disc({ScriptPayload("kernel", "touch \"$GITDISC_REBOOT_FILE\"\n", {}, {}, "ifRequested"),
            ScriptPayload("nochange", "true\n", {}, {}, "ifRequested"), Effect("after")});
  DoneEvent d = ApplyAndWait("op-r", digest, {"nochange", "kernel", "after"});
  ASSERT_EQ(d.results.size(), 3u);
  EXPECT_FALSE(d.results[0].reboot);  // did not ask
  EXPECT_TRUE(d.results[1].reboot);
  EXPECT_EQ(d.results[1].result, Outcome::kOk);
  EXPECT_EQ(d.results[2].result, Outcome::kSkipped);
  EXPECT_TRUE(d.reboot);
  agent_->WaitIdle();
  EXPECT_EQ(reboots_.load(), 1);
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ(ledger->size(), 2u);
}

TEST_F(AgentTest, HostDisconnectDoesNotStopTheApplyAndStatusReportsIt) {
  std::string digest = Disc({ScriptPayload("pause", "sleep 1; echo slept\n"), Effect("first")});
  auto acc = client_->Apply("op-d", digest, {"pause", "first"});
  ASSERT_TRUE(acc.ok());
  Disconnect();
  agent_->WaitIdle();
  EXPECT_EQ(CountLines(out_), 1);
  Connect();
  auto st = client_->Status("op-d");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->ops.size(), 1u);
  EXPECT_EQ(st->ops[0].state, OpState::kFinished);
  ASSERT_EQ(st->ops[0].results.size(), 2u);
  EXPECT_EQ(st->ops[0].results[0].output_tail, "slept\n");
  // "What finished since you last asked": reported once.
  auto all = client_->Status();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->ops.size(), 1u);
  EXPECT_EQ(all->ops[0].op_id, "op-d");
  auto again = client_->Status();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ops.empty());
  auto unknown = client_->Status("op-never");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->ops.at(0).state, OpState::kUnknown);
}

TEST_F(AgentTest, LostDoneIsRecoveredThroughStatus) {
  std::string digest = Disc({Effect("first")});
  // Send the apply by hand and drop everything the agent says.
  ASSERT_TRUE(
      host_end_->Write(EncodeHostMessage(ApplyRequest{900, "op-lost", digest, {"first"}})).ok());
  agent_->WaitIdle();
  char buf[65536];
  while (true) {
    auto n = host_end_->Read(buf, sizeof buf, milliseconds(200));
    if (!n.ok() || *n == 0) break;
  }
  auto done =
      client_->WaitForDone("op-lost", std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->results.at(0).result, Outcome::kOk);
}

TEST_F(AgentTest, BusyWhileAnotherOpRuns) {
  std::string digest = Disc({ScriptPayload("pause", "sleep 2\n"), Effect("first")});
  ASSERT_TRUE(client_->Apply("op-a", digest, {"pause"}).ok());
  auto busy = client_->Apply("op-b", digest, {"first"});
  EXPECT_EQ(busy.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(busy.status().message().find("busy"), std::string::npos);
  // The same op id while it runs is simply accepted again.
  auto same = client_->Apply("op-a", digest, {"pause"});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->state, OpState::kRunning);
  auto done =
      client_->WaitForDone("op-a", std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(done.ok());
}

TEST_F(AgentTest, MalformedInputGetsAnErrorAndTheConnectionIsKept) {
  ASSERT_TRUE(host_end_->Write("this is not json\n{\"type\":\"launch\",\"id\":5}\n").ok());
  ASSERT_TRUE(host_end_->Write(std::string(kMaxLineBytes + 10, 'x') + "\n").ok());
  auto hello = client_->Hello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  // The errors arrived first; the client skipped them (they answer no call of its own).
  ASSERT_TRUE(host_end_
                  ->Write(R"({"type":"hello","id":77,"protocol":2})"
                          "\n")
                  .ok());
  // Skip replies still in flight for the client's calls; find the error for id 77.
  LineReader lines(host_end_.get(), kMaxLineBytes);
  std::string wrong_version;
  for (;;) {
    auto l = lines.ReadLine(milliseconds(5000));
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    if (l->find("\"error\"") != std::string::npos && l->find("77") != std::string::npos) {
      wrong_version = *l;
      break;
    }
  }
  auto msg = DecodeAgentMessage(wrong_version);
  ASSERT_TRUE(msg.ok()) << wrong_version;
  auto* err = std::get_if<ErrorReply>(&*msg);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->code, ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(err->id, std::optional<uint64_t>(77));
}

TEST_F(AgentTest, LedgerSurvivesAnAgentRestart) {
  std::string digest = Disc({Effect("first")});
  ApplyAndWait("op-1", digest, {"first"});
  Disconnect();
  agent_.reset();
  AgentOptions o;
  o.state_dir = tmp_ / "state";
  o.discs = {tmp_ / "disc.iso"};
  auto a = Agent::Create(o, std::make_unique<RecordingSystem>(&reboots_));
  ASSERT_TRUE(a.ok());
  agent_ = std::move(*a);
  Connect();
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].payload, "first");
  auto acc = client_->Apply("op-1", digest, {"first"});
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->state, OpState::kFinished);
  EXPECT_EQ(CountLines(out_), 1);
}

}  // namespace
}  // namespace gitdisc::guest
