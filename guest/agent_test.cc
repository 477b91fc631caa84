// Host AgentClient <-> Agent over a socketpair, with real bundle ISO files
// (written by iso/) standing in for the drives. The agent reads them with the
// same ISO reader it uses on /dev/sr0; the kernel side (a real drive, media
// changes, two drives) is covered by the real-guest test (tests/guest/).
#include "guest/agent.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/file_util.h"
#include "guest/agent_client.h"
#include "guest/line_reader.h"
#include "guest/payload_store.h"
#include "guest/test_bundle.h"
#include "iso/bundle.h"
#include "tests/support/disc_forgery.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using testing::ScriptPayload;
using testing::TempDir;
using testing::WriteBundle;

// What the fake guest has: its "devices" (image files standing in for
// /dev/sr0, /dev/vda, ...) and what the agent did to them.
struct Drives {
  std::mutex mu;
  std::vector<std::string> devices;
  std::vector<std::string> unlocked;
  std::atomic<int> reboots{0};
};

// The real Linux system, except that the devices are listed from Drives,
// unlocks are recorded and reboots only counted.
class RecordingSystem final : public AgentSystem {
 public:
  explicit RecordingSystem(Drives* drives) : drives_(drives) {}
  std::vector<std::string> ListDiscDevices() override {
    std::lock_guard<std::mutex> l(drives_->mu);
    return drives_->devices;
  }
  Status UnlockDrive(const std::string& d) override {
    {
      std::lock_guard<std::mutex> l(drives_->mu);
      drives_->unlocked.push_back(d);
    }
    return real_->UnlockDrive(d);
  }
  void Reboot() override { ++drives_->reboots; }

 private:
  std::unique_ptr<AgentSystem> real_ = MakeLinuxAgentSystem();
  Drives* drives_;
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
    StartAgent({tmp_ / "disc.iso"});
  }

  // A fresh agent on the same state dir; `discs` empty: it looks at the
  // devices the system lists (drives_.devices).
  void StartAgent(std::vector<std::string> discs) {
    Disconnect();
    agent_.reset();
    AgentOptions o;
    o.state_dir = tmp_ / "state";
    o.discs = std::move(discs);
    o.disc_retry = milliseconds(300);
    o.kill_grace = milliseconds(200);
    o.reboot_delay = milliseconds(0);
    auto a = Agent::Create(o, std::make_unique<RecordingSystem>(&drives_));
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
  Drives drives_;
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
  // Each ran in its verified copy, kept under the state dir by digest.
  auto copy = [&](const PayloadResult& r) {
    return tmp_.path() + "/state/payloads/" + r.payload + "/" + r.digest + "/files";
  };
  EXPECT_EQ(*effects, "first 1 test-revision op-1 cwd=" + copy(done.results[0]) +
                          " scratch=" + tmp_.path() + "/state/scratch/first\n" +
                          "second 1 test-revision op-1 cwd=" + copy(done.results[1]) +
                          " scratch=" + tmp_.path() + "/state/scratch/second\n");
  EXPECT_TRUE(PathExists(copy(done.results[0]) + "/install.sh"));
  // Found, checked, copied, released, and only then run.
  std::vector<std::string> phases;
  bool saw_result = false;
  for (const auto& e : events) {
    if (auto* p = std::get_if<ProgressEvent>(&e)) {
      if (phases.empty() || phases.back() != p->phase) phases.push_back(p->phase);
    }
    saw_result |= std::holds_alternative<ResultEvent>(e);
  }
  EXPECT_EQ(phases, (std::vector<std::string>{"disc", "verify", "copy", "release", "run"}));
  EXPECT_TRUE(saw_result);

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
  EXPECT_EQ(drives_.reboots.load(), 1);
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
  StartAgent({tmp_ / "disc.iso"});
  auto ledger = client_->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].payload, "first");
  auto acc = client_->Apply("op-1", digest, {"first"});
  ASSERT_TRUE(acc.ok());
  EXPECT_EQ(acc->state, OpState::kFinished);
  EXPECT_EQ(CountLines(out_), 1);
}

// Payload "app" at version v: appends "app <v> <content of data/readme.txt>"
// to the effects log; exits `code`.
iso::BundlePayload App(const std::string& out, const std::string& v, int code = 0) {
  iso::BundlePayload p =
      ScriptPayload("app",
                    "echo \"app $GITDISC_VERSION $(cat data/readme.txt)\" >> \"$OUT\"\nexit " +
                        std::to_string(code) + "\n",
                    {{"OUT", out}});
  p.version = v;
  return p;
}

std::vector<std::string> Listing(const std::string& dir) {
  auto names = ListFolder(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

TEST_F(AgentTest, TheDriveIsReleasedBeforeAnythingRunsAndADiscSwappedThenChangesNothing) {
  // The payload waits for the test's go, then reads a file of its folder.
  iso::BundlePayload p = ScriptPayload("first",
                                       "while [ ! -f \"$GO\" ]; do sleep 0.05; done\n"
                                       "echo \"first $(cat data/readme.txt)\" >> \"$OUT\"\n",
                                       {{"OUT", out_}, {"GO", tmp_ / "go"}});
  std::string digest = Disc({p});
  ASSERT_TRUE(client_->Apply("op-swap", digest, {"first"}).ok());
  // Running, and the drive already released: the host may eject now.
  bool released_while_running = false;
  for (int i = 0; i < 200 && !released_while_running; ++i) {
    auto st = client_->Status("op-swap");
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    const OpStatus& op = st->ops.at(0);
    released_while_running = op.state == OpState::kRunning && op.phase == "run" && op.disc_released;
    if (!released_while_running) std::this_thread::sleep_for(milliseconds(25));
  }
  ASSERT_TRUE(released_while_running);
  {
    std::lock_guard<std::mutex> l(drives_.mu);
    EXPECT_EQ(drives_.unlocked, std::vector<std::string>{tmp_ / "disc.iso"});
  }
  // Another disc in the drive (same path), with other content in that file.
  std::string other;
  ASSERT_FALSE(WriteBundle({ScriptPayload("first", "echo EVIL >> \"$OUT\"\n", {{"OUT", out_}})},
                           tmp_ / "disc.iso", &other)
                   .empty())
      << other;
  ASSERT_TRUE(
      test_support::ReplaceUniqueBytes(tmp_ / "disc.iso", "payload first\n", "EVILOAD first\n")
          .ok());
  ASSERT_TRUE(WriteFileAtomic(tmp_ / "go", "").ok());
  auto done =
      client_->WaitForDone("op-swap", std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->results.at(0).result, Outcome::kOk) << done->results.at(0).output_tail;
  EXPECT_TRUE(done->disc_released);
  auto effects = ReadFile(out_);
  ASSERT_TRUE(effects.ok());
  EXPECT_EQ(*effects, "first payload first\n");
}

TEST_F(AgentTest, TheKeptCopyIsReplacedOnUpgradeAndKeptWhenAnUpgradeFails) {
  std::string app_dir = tmp_ / "state/payloads/app";
  std::string d1 = Disc({App(out_, "1")});
  DoneEvent one = ApplyAndWait("op-1", d1, {"app"});
  ASSERT_EQ(one.results.at(0).result, Outcome::kOk) << one.message;
  std::string v1 = one.results[0].digest;
  EXPECT_EQ(Listing(app_dir), (std::vector<std::string>{v1, "installed"}));

  std::string d2 = Disc({App(out_, "2")});
  DoneEvent two = ApplyAndWait("op-2", d2, {"app"});
  ASSERT_EQ(two.results.at(0).result, Outcome::kOk) << two.message;
  std::string v2 = two.results[0].digest;
  ASSERT_NE(v1, v2);
  EXPECT_EQ(Listing(app_dir), (std::vector<std::string>{v2, "installed"}));

  std::string d3 = Disc({App(out_, "3", /*code=*/4)});
  DoneEvent three = ApplyAndWait("op-3", d3, {"app"});
  ASSERT_EQ(three.results.at(0).result, Outcome::kFailed);
  EXPECT_EQ(Listing(app_dir), (std::vector<std::string>{v2, "installed"}));

  // What is kept needs no disc and still verifies.
  ASSERT_TRUE(RemoveAll(tmp_ / "disc.iso").ok());
  auto store = PayloadStore::Open(tmp_ / "state/payloads");
  ASSERT_TRUE(store.ok());
  auto kept = (*store)->Installed("app");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->digest, v2);
  EXPECT_EQ(kept->entry.version, "2");
  EXPECT_EQ(CountLines(out_), 3);
}

TEST_F(AgentTest, AnAppliedPayloadWithoutAKeptCopyGetsOneWithoutRunningAgain) {
  std::string digest = Disc({Effect("first")});
  DoneEvent d = ApplyAndWait("op-1", digest, {"first"});
  ASSERT_EQ(d.results.at(0).result, Outcome::kOk);
  // As after an upgrade from an agent that kept no copies.
  ASSERT_TRUE(RemoveAll(tmp_ / "state/payloads").ok());
  StartAgent({tmp_ / "disc.iso"});
  DoneEvent again = ApplyAndWait("op-2", digest, {"first"});
  EXPECT_EQ(again.results.at(0).op_id, "op-1");
  EXPECT_EQ(CountLines(out_), 1);
  EXPECT_EQ(Listing(tmp_ / "state/payloads/first"),
            (std::vector<std::string>{d.results[0].digest, "installed"}));
}

// The fake guest's devices: a missing one, another bundle, a forged disc
// with the genuine volume ID and its own manifest, a copy of the genuine disc
// with one file changed, and the genuine disc.
class DriveChoiceTest : public AgentTest {
 protected:
  void MakeDiscs() {
    std::string err;
    genuine_ = WriteBundle({Effect("first")}, tmp_ / "genuine.iso", &err);
    ASSERT_FALSE(genuine_.empty()) << err;
    ASSERT_FALSE(WriteBundle({Effect("second")}, tmp_ / "other.iso", &err).empty()) << err;
    ASSERT_FALSE(WriteBundle({ScriptPayload("first", "echo FORGED >> \"$OUT\"\n", {{"OUT", out_}})},
                             tmp_ / "forged.iso", &err)
                     .empty())
        << err;
    ASSERT_TRUE(
        test_support::PatchVolumeId(tmp_ / "forged.iso", iso::VolumeIdForDigest(genuine_)).ok());
    ASSERT_TRUE(WriteFileAtomic(tmp_ / "tampered.iso", *ReadFile(tmp_ / "genuine.iso")).ok());
    ASSERT_TRUE(test_support::ReplaceUniqueBytes(tmp_ / "tampered.iso", "payload first\n",
                                                 "PAYLOAD first\n")
                    .ok());
  }
  void UseDevices(std::vector<std::string> devices) {
    {
      std::lock_guard<std::mutex> l(drives_.mu);
      drives_.devices = std::move(devices);
      drives_.unlocked.clear();
    }
    StartAgent({});
  }
  std::string genuine_;
};

TEST_F(DriveChoiceTest, TheDriveIsChosenByVolumeIdAndManifestAndForgedDiscsNeverRun) {
  MakeDiscs();
  UseDevices({tmp_ / "sr-empty", tmp_ / "other.iso", tmp_ / "forged.iso", tmp_ / "tampered.iso",
              tmp_ / "genuine.iso"});
  std::vector<AgentMessage> events;
  DoneEvent d = ApplyAndWait("op-1", genuine_, {"first"}, &events);
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kOk) << d.message;
  EXPECT_EQ(d.results[0].output_tail, "payload first\n");  // the genuine readme
  auto effects = ReadFile(out_);
  ASSERT_TRUE(effects.ok());
  EXPECT_EQ(effects->find("FORGED"), std::string::npos);
  EXPECT_EQ(CountLines(out_), 1);
  // The forged label was opened but its manifest refused at once; the
  // tampered copy was tried and dropped; the genuine disc was used.
  std::string progress;
  for (const auto& e : events) {
    if (auto* p = std::get_if<ProgressEvent>(&e)) progress += p->phase + ": " + p->message + "\n";
  }
  EXPECT_NE(progress.find("checking " + tmp_ / "tampered.iso"), std::string::npos) << progress;
  EXPECT_NE(progress.find("released " + tmp_ / "genuine.iso"), std::string::npos) << progress;
  EXPECT_EQ(progress.find("checking " + tmp_ / "forged.iso"), std::string::npos) << progress;
  std::lock_guard<std::mutex> l(drives_.mu);
  EXPECT_EQ(drives_.unlocked,
            (std::vector<std::string>{tmp_ / "genuine.iso", tmp_ / "tampered.iso"}));
}

TEST_F(DriveChoiceTest, OnlyForgedDiscsAreRefusedNamingEachAndNothingRuns) {
  MakeDiscs();
  UseDevices({tmp_ / "forged.iso", tmp_ / "tampered.iso"});
  DoneEvent d = ApplyAndWait("op-1", genuine_, {"first"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kRefused);
  EXPECT_NE(d.message.find(tmp_ / "tampered.iso"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("does not match its manifest"), std::string::npos) << d.message;
  EXPECT_TRUE(d.disc_released);
  EXPECT_FALSE(PathExists(out_));
  EXPECT_FALSE(PathExists(tmp_ / "state/payloads/first"));

  UseDevices({tmp_ / "forged.iso", tmp_ / "other.iso"});
  d = ApplyAndWait("op-2", genuine_, {"first"});
  EXPECT_EQ(d.results.at(0).result, Outcome::kRefused);
  EXPECT_NE(d.message.find("forged.iso holds bundle"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("other.iso holds volume"), std::string::npos) << d.message;
  EXPECT_FALSE(PathExists(out_));
}

TEST_F(AgentTest, AJolietOnlyDiscIsRefusedWithAClearReason) {
  std::string digest = Disc({Effect("first")});
  ASSERT_TRUE(
      test_support::WriteJolietOnlyCopy(tmp_ / "disc.iso", tmp_ / "joliet.iso", tmp_.path()).ok());
  ASSERT_EQ(::rename((tmp_ / "joliet.iso").c_str(), (tmp_ / "disc.iso").c_str()), 0);
  DoneEvent d = ApplyAndWait("op-j", digest, {"first"});
  ASSERT_EQ(d.results.size(), 1u);
  EXPECT_EQ(d.results[0].result, Outcome::kRefused);
  EXPECT_NE(d.message.find("does not match its manifest"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("P/first"), std::string::npos) << d.message;
  EXPECT_FALSE(PathExists(out_));
}

TEST_F(AgentTest, AJolietTreeThatDiffersFromRockRidgeDoesNotChangeWhatRuns) {
  iso::BundlePayload p = ScriptPayload("first", "echo genuine >> \"$OUT\"\n", {{"OUT", out_}});
  p.files.push_back(testing::MemFile("alt.sh", "#!/bin/sh\necho JOLIET >> \"$OUT\"\n", 0755));
  std::string digest = Disc({p});
  ASSERT_TRUE(
      test_support::PointJolietFileAt(tmp_ / "disc.iso", "install.sh", "P/first/alt.sh").ok());
  ASSERT_TRUE(test_support::HideRockRidgeFromLinux(tmp_ / "disc.iso").ok());
  // The forgery took: a Joliet reader sees the other script under the name.
  std::string joliet_view = tmp_ / "joliet-view";
  ASSERT_EQ(std::system(("isoinfo -J -i " + tmp_ / "disc.iso" + " -x '/P/first/install.sh;1' > " +
                         joliet_view + " 2>/dev/null")
                            .c_str()),
            0);
  EXPECT_NE(ReadFile(joliet_view)->find("JOLIET"), std::string::npos);

  DoneEvent d = ApplyAndWait("op-jr", digest, {"first"});
  ASSERT_EQ(d.results.at(0).result, Outcome::kOk) << d.message;
  EXPECT_EQ(*ReadFile(out_), "genuine\n");
}

}  // namespace
}  // namespace gitdisc::guest
