// A Git remote that goes away in the middle of a fetch (docs/security.md,
// "Faults"): a real `git daemon` serves the repository over git://, and a
// relay between it and gitdisc cuts the connection, or the daemon is killed,
// or the remote goes silent with the connection open, while libgit2 is
// receiving the pack. The Source must report a clear fetch error within a
// bounded time, keep the mirror at the last fetched revision (refs, objects
// and snapshots intact), and catch up on the next fetch once the remote is
// reachable again.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "specs/git_library.h"
#include "specs/source.h"
#include "tests/git/cutting_relay.h"
#include "tests/git/git_daemon_process.h"
#include "tests/git/git_test_util.h"
#include "tests/git/spec_fixture.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::CuttingRelay;
using gitdisc::testing::FixturePayload;
using gitdisc::testing::Git;
using gitdisc::testing::GitDaemonProcess;
using gitdisc::testing::SetYaml;
using gitdisc::testing::ShellQuote;
using gitdisc::testing::TempDir;
using gitdisc::testing::WorkRepo;

// C2 adds this much incompressible data: the pack is several MiB, so a cut
// after kCutAfter server bytes lands well inside it.
constexpr int kBlobs = 4;
constexpr size_t kBlobBytes = 2u << 20;
constexpr uint64_t kCutAfter = 1u << 20;
// What the test allows one fetch before calling it a hang (the product's own
// fetch deadline is set longer, so a hang is caught here, not hidden there).
constexpr auto kFetchBound = std::chrono::seconds(20);
constexpr auto kProductDeadline = std::chrono::seconds(120);

class FetchInterruptedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Git(served_.path(), "init -q --bare fleet.git");
    daemon_ = std::make_unique<GitDaemonProcess>(served_.path(), logs_ / "daemon.log");
    relay_ = std::make_unique<CuttingRelay>(daemon_->port());
    url_ = "git://127.0.0.1:" + std::to_string(relay_->port()) + "/fleet.git";
  }

  void Push() { w_.Run("push -q " + ShellQuote(served_ / "fleet.git") + " main"); }

  // C1: one small valid set.
  std::string CommitC1() {
    w_.Write("payloads/motd/install.sh", "#!/bin/sh\necho one\n", 0755);
    w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd", "1")}));
    std::string c1 = w_.Commit("c1");
    Push();
    return c1;
  }
  // C2: the set's payload gains kBlobs random blobs; returns their sha256 by
  // path in the payload folder.
  std::map<std::string, std::string> CommitC2(std::string* sha) {
    std::mt19937_64 rng(20261125);  // fixed: the same bytes on every run
    std::map<std::string, std::string> digests;
    for (int i = 0; i < kBlobs; ++i) {
      std::string data(kBlobBytes, '\0');
      for (size_t off = 0; off < data.size(); off += 8) {
        uint64_t v = rng();
        std::memcpy(data.data() + off, &v, 8);
      }
      std::string name = "blob-" + std::to_string(i) + ".bin";
      w_.Write("payloads/motd/" + name, data);
      digests[name] = Sha256Hex(data);
    }
    w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd", "2")}));
    *sha = w_.Commit("c2 with blobs");
    Push();
    return digests;
  }

  std::unique_ptr<Source> OpenSource(std::chrono::seconds fetch_timeout = kProductDeadline) {
    SourceOptions o;
    o.repo = url_;
    o.state_dir = state_.path();
    o.fetch_timeout = fetch_timeout;
    auto s = Source::Open(lib_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString() << "\ndaemon log:\n" << daemon_->Log();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Source::Poll, bounded: a fetch that does not return within kFetchBound
  // fails the test, and the daemon is killed (the relay then ends the
  // client's connection) so the blocked fetch returns and the test ends.
  Result<SourceState> PollWithin(Source& src) {
    auto done = std::async(std::launch::async, [&src] { return src.Poll(); });
    if (done.wait_for(kFetchBound) != std::future_status::ready) {
      ADD_FAILURE() << "the fetch did not return within " << kFetchBound.count() << "s";
      relay_->DropAll();
      daemon_->Kill();
    }
    return done.get();
  }

  // What must hold after an interrupted fetch: the failure is reported with
  // its cause (`code`), the mirror is still exactly C1 (refs, objects), and
  // C1 loads as valid.
  void ExpectStillAtC1(Source& src, const Result<SourceState>& st, const std::string& c1,
                       const std::string& c2, Status::Code code) {
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_FALSE(st->fetch_status.ok());
    EXPECT_NE(st->fetch_status.message().find("fetch " + url_), std::string::npos)
        << st->fetch_status.ToString();
    EXPECT_EQ(st->fetch_status.code(), code) << st->fetch_status.ToString();
    EXPECT_FALSE(src.repository().fetch_status().ok());
    EXPECT_EQ(st->branch, "main");
    EXPECT_EQ(st->tip, c1);
    EXPECT_EQ(st->newest_valid, c1);
    EXPECT_TRUE(st->invalid.empty());

    // The mirror, checked with git itself: its one branch still names C1,
    // nothing of C2 was half-stored, every object is sound.
    const std::string mirror = src.repository().path();
    EXPECT_EQ(Git(mirror, "for-each-ref --format='%(refname) %(objectname)'"),
              "refs/heads/main " + c1);
    EXPECT_EQ(Git(mirror, "symbolic-ref HEAD"), "refs/heads/main");
    EXPECT_THROW(Git(mirror, "cat-file -e " + c2), std::runtime_error);
    EXPECT_NO_THROW(Git(mirror, "fsck --strict --no-dangling"));
    // No leftovers of the cut pack (libgit2 writes it to a temp file first).
    for (const auto& e : std::filesystem::directory_iterator(mirror + "/objects/pack")) {
      std::string ext = e.path().extension().string();
      EXPECT_TRUE(ext == ".pack" || ext == ".idx" || ext == ".rev") << e.path();
    }
    for (const auto& e : std::filesystem::directory_iterator(state_ / "mirrors")) {
      EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
    }

    auto snap = src.Load(c1);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_TRUE((*snap)->valid());
    ASSERT_EQ((*snap)->load().sets.size(), 1u);
    const Payload& motd = (*snap)->load().sets[0].payloads.at(0);
    EXPECT_EQ(motd.version, "1");
    auto content = (*snap)->Content(motd);
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    ASSERT_EQ(content->files.size(), 1u);
    EXPECT_EQ(*(*snap)->ReadFile(*content, content->files[0]), "#!/bin/sh\necho one\n");
  }

  // After the remote is back: the fetch succeeds, the failure is cleared,
  // and C2 loads with every blob's exact content.
  void ExpectCaughtUpToC2(Source& src, const std::string& c2,
                          const std::map<std::string, std::string>& digests) {
    auto st = PollWithin(src);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    EXPECT_TRUE(st->fetch_status.ok()) << st->fetch_status.ToString() << "\ndaemon log:\n"
                                       << daemon_->Log();
    EXPECT_TRUE(src.repository().fetch_status().ok());
    EXPECT_EQ(st->tip, c2);
    EXPECT_EQ(st->newest_valid, c2);
    EXPECT_NO_THROW(Git(src.repository().path(), "fsck --strict --no-dangling"));

    auto snap = src.Load(c2);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_TRUE((*snap)->valid());
    const Payload& motd = (*snap)->load().sets.at(0).payloads.at(0);
    EXPECT_EQ(motd.version, "2");
    auto content = (*snap)->Content(motd);
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    std::map<std::string, std::string> got;
    for (const PayloadFile& f : content->files) {
      if (f.path == "install.sh") continue;
      EXPECT_EQ(f.size, kBlobBytes) << f.path;
      auto bytes = (*snap)->ReadFile(*content, f);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      EXPECT_EQ(Sha256Hex(*bytes), f.sha256) << f.path;
      got[f.path] = f.sha256;
    }
    EXPECT_EQ(got, digests);
  }

  GitLibrary lib_;
  TempDir state_;
  TempDir served_;
  TempDir logs_;
  WorkRepo w_;
  std::unique_ptr<GitDaemonProcess> daemon_;
  std::unique_ptr<CuttingRelay> relay_;
  std::string url_;
};

TEST_F(FetchInterruptedTest, ConnectionCutWhileReceivingThePackKeepsTheMirrorAndCatchesUp) {
  std::string c1 = CommitC1();
  auto src = OpenSource();
  ASSERT_NE(src, nullptr);
  auto first = src->State();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->fetch_status.ok());
  EXPECT_EQ(first->tip, c1);

  std::string c2;
  auto digests = CommitC2(&c2);
  relay_->Arm(kCutAfter);
  auto st = PollWithin(*src);
  // The cut came from the relay, inside the pack: the pack had begun well
  // before it, and the whole pack is far larger than what got through.
  auto cuts = relay_->WaitForInterruptions(1, kFetchBound);
  ASSERT_GE(cuts.size(), 1u);
  EXPECT_EQ(cuts[0].server_bytes, kCutAfter);
  EXPECT_GE(cuts[0].pack_offset, 0) << "the cut came before the pack";
  EXPECT_LT(static_cast<uint64_t>(cuts[0].pack_offset), kCutAfter / 2);
  ExpectStillAtC1(*src, st, c1, c2, Status::Code::kUnavailable);
  // Only what was asked: one attempt per poll (a cut is not mistaken for a
  // damaged mirror and answered with a full re-clone through the same cut).
  EXPECT_EQ(relay_->connections(), 2);

  relay_->Heal();
  ExpectCaughtUpToC2(*src, c2, digests);
}

TEST_F(FetchInterruptedTest, DaemonKilledWhileSendingThePackKeepsTheMirrorAndCatchesUp) {
  std::string c1 = CommitC1();
  auto src = OpenSource();
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->State()->tip, c1);

  std::string c2;
  auto digests = CommitC2(&c2);
  // The relay stops nothing itself: once 1 MiB of the answer got through,
  // the daemon and its upload-pack die, and the relay passes on whatever
  // the dead server had already sent, then its end of the stream.
  relay_->Arm(kCutAfter, CuttingRelay::Action::kCallback, [this] { daemon_->Kill(); });
  auto st = PollWithin(*src);
  auto cuts = relay_->WaitForInterruptions(1, kFetchBound);
  ASSERT_GE(cuts.size(), 1u);
  EXPECT_GE(cuts[0].pack_offset, 0) << "the daemon died before the pack began";
  EXPECT_LT(cuts[0].server_bytes + cuts[0].after_callback, uint64_t{kBlobs} * kBlobBytes)
      << "the whole pack got through before the daemon died";
  ExpectStillAtC1(*src, st, c1, c2, Status::Code::kUnavailable);

  // A fresh daemon (on a new port: the old one may linger in TIME_WAIT)
  // behind the same relay, so the URL and the mirror stay the same.
  daemon_ = std::make_unique<GitDaemonProcess>(served_.path(), logs_ / "daemon2.log");
  relay_->set_upstream_port(daemon_->port());
  relay_->Heal();
  ExpectCaughtUpToC2(*src, c2, digests);
}

TEST_F(FetchInterruptedTest, StalledTransferEndsAtTheDeadline) {
  // The remote goes silent mid-pack with the connection left open (no FIN,
  // no reset): only the fetch deadline can end this fetch. libgit2 1.5 has
  // no socket timeout, and no progress callback runs while it waits.
  constexpr auto kDeadline = std::chrono::seconds(3);
  std::string c1 = CommitC1();
  auto src = OpenSource(kDeadline);
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->State()->tip, c1);

  std::string c2;
  auto digests = CommitC2(&c2);
  relay_->Arm(kCutAfter, CuttingRelay::Action::kStall);
  auto started = std::chrono::steady_clock::now();
  auto st = PollWithin(*src);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, kDeadline);
  EXPECT_LT(took, kDeadline + std::chrono::seconds(5)) << "the deadline was not enforced promptly";
  relay_->DropAll();  // the stalled connection is recorded once closed
  auto cuts = relay_->WaitForInterruptions(1, kFetchBound);
  ASSERT_GE(cuts.size(), 1u);
  EXPECT_EQ(cuts[0].server_bytes, kCutAfter) << "the deadline passed before the stall";
  EXPECT_GE(cuts[0].pack_offset, 0) << "the stall came before the pack";
  ExpectStillAtC1(*src, st, c1, c2, Status::Code::kTimeout);
  EXPECT_NE(st->fetch_status.message().find("no answer within 3s"), std::string::npos)
      << st->fetch_status.ToString();

  relay_->Heal();
  ExpectCaughtUpToC2(*src, c2, digests);
}

}  // namespace
}  // namespace gitdisc::specs
