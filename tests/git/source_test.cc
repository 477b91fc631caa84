// Source on real histories: newest revision, newest valid revision with the
// diagnostics of newer invalid commits, snapshots and payload content.
#include "specs/source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "base/sha256.h"
#include "tests/git/git_test_util.h"
#include "tests/git/spec_fixture.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::FixturePayload;
using gitdisc::testing::SetYaml;
using gitdisc::testing::Symlink;
using gitdisc::testing::TempDir;
using gitdisc::testing::WorkRepo;

class SourceTest : public ::testing::Test {
 protected:
  GitLibrary lib_;
  TempDir state_;
  WorkRepo w_;

  std::string CommitValid(const std::string& motd_version, const std::string& text) {
    w_.Write("payloads/motd/install.sh", "#!/bin/sh\n" + text + "\n", 0755);
    w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd", motd_version)}));
    return w_.Commit("valid " + motd_version);
  }
  std::string CommitInvalid(const std::string& why) {
    w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd", "1", "path: payloads/" + why)}));
    return w_.Commit("invalid " + why);
  }
  std::unique_ptr<Source> Open(const std::string& repo = "",
                               std::chrono::milliseconds walkback = std::chrono::seconds(30),
                               std::vector<std::string> artifact_roots = {}) {
    SourceOptions o;
    o.repo = repo.empty() ? w_.path() : repo;
    o.state_dir = state_.path();
    o.walkback_budget = walkback;
    o.artifact_policy.file_roots = std::move(artifact_roots);
    auto s = Source::Open(lib_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
};

TEST_F(SourceTest, NewestValidRevisionSkipsInvalidCommitsWithTheirDiagnostics) {
  std::string good = CommitValid("1", "echo one");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->branch, "main");
  EXPECT_EQ(st->tip, good);
  EXPECT_TRUE(st->tip_valid());
  EXPECT_TRUE(st->invalid.empty());

  std::string bad1 = CommitInvalid("missing-one");
  std::string bad2 = CommitInvalid("missing-two");
  st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->tip, bad2);
  EXPECT_EQ(st->newest_valid, good);
  ASSERT_EQ(st->invalid.size(), 2u);
  EXPECT_EQ(st->invalid[0].revision, bad2);
  EXPECT_EQ(st->invalid[0].summary, "invalid missing-two");
  ASSERT_FALSE(st->invalid[0].diagnostics.empty());
  EXPECT_EQ(st->invalid[0].diagnostics[0].pos.file, "web.yaml");
  EXPECT_GT(st->invalid[0].diagnostics[0].pos.line, 0);
  EXPECT_EQ(st->invalid[1].revision, bad1);

  std::string fixed = CommitValid("2", "echo two");
  st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, fixed);
  EXPECT_TRUE(st->invalid.empty());
}

TEST_F(SourceTest, WalkBackIsBoundedByTimeAndGoesFurtherAtTheNextCall) {
  std::string good = CommitValid("1", "echo");
  CommitInvalid("a");
  CommitInvalid("b");
  CommitInvalid("c");
  auto src = Open("", std::chrono::milliseconds(0));
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, "");
  EXPECT_TRUE(st->walkback_exhausted);
  EXPECT_EQ(st->invalid.size(), 1u);  // the tip is always examined
  // With time to walk, the same source finds the valid commit below them.
  auto patient = Open();
  st = patient->State();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->newest_valid, good);
  EXPECT_FALSE(st->walkback_exhausted);
}

// Regression: the walk-back used to stop after 50 commits, so a run of more
// invalid commits left the fleet with "no valid revision".
TEST_F(SourceTest, MoreThanFiftyInvalidCommitsInARowStillFindTheValidOne) {
  std::string good = CommitValid("1", "echo");
  for (int i = 0; i < 60; ++i) CommitInvalid("missing-" + std::to_string(i));
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto st = src->State();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->newest_valid, good);
  EXPECT_EQ(st->invalid.size(), 60u);
}

TEST_F(SourceTest, SymlinkLoopInPayloadMakesTheRevisionInvalidAtThePayload) {
  CommitValid("1", "echo");
  Symlink("b", w_ / "payloads/motd/a");
  Symlink("a", w_ / "payloads/motd/b");
  std::string bad = w_.Commit("loop");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  auto snap = src->Load(bad);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_FALSE((*snap)->valid());
  bool located = false;
  for (const Diagnostic& d : (*snap)->diagnostics()) {
    if (d.pos.file == "web.yaml" && d.pos.line > 0) located = true;
  }
  EXPECT_TRUE(located);
}

TEST_F(SourceTest, SnapshotGivesContentDigestsAndBytes) {
  TempDir art;
  gitdisc::testing::WriteText(art / "tool.deb", "deb!");
  w_.Write("payloads/motd/install.sh", "#!/bin/sh\necho hi\n", 0755);
  w_.Write("payloads/motd/motd.txt", "hello\n");
  // The artifacts are single files on the disc (no unpack): run through sh.
  FixturePayload tool_spec("tool", "1",
                      "file: {path: " + (art / "tool.deb") + ", sha256: \"" + Sha256Hex("deb!") +
                          "\"}");
  tool_spec.run = "[\"/bin/sh\", \"-c\", \"dpkg -i ./tool.deb\"]";
  FixturePayload plugin_spec("plugin", "1",
                        "url: {url: \"http://127.0.0.1:1/plugin-1.4.tgz\", sha256: \"" +
                            Sha256Hex("never fetched") + "\"}");
  plugin_spec.run = "[\"/bin/sh\", \"-c\", \"tar xzf plugin-1.4.tgz\"]";
  w_.Write("web.yaml", SetYaml("web", {FixturePayload("motd"), tool_spec, plugin_spec}));
  std::string c = w_.Commit("c");
  {
    // Without an artifact root the file: payload has a digest but no content.
    auto closed = Open();
    ASSERT_NE(closed, nullptr);
    auto s = closed->Load("");
    ASSERT_TRUE(s.ok());
    const auto& p = (*s)->load().sets.at(0).payloads;
    EXPECT_TRUE((*s)->Digest(p[1]).ok());
    auto refused = (*s)->Content(p[1]);
    EXPECT_EQ(refused.status().code(), Status::Code::kPermission);
    EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("--artifact-root"));
  }
  auto src = Open("", std::chrono::seconds(30), {art.path()});
  ASSERT_NE(src, nullptr);
  auto snap = src->Load("");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_TRUE((*snap)->valid()) << ((*snap)->diagnostics().empty()
                                        ? ""
                                        : (*snap)->diagnostics()[0].ToString());
  EXPECT_EQ((*snap)->revision(), c);
  const auto& payloads = (*snap)->load().sets.at(0).payloads;
  ASSERT_EQ(payloads.size(), 3u);

  auto motd = (*snap)->Content(payloads[0]);
  ASSERT_TRUE(motd.ok()) << motd.status().ToString();
  EXPECT_EQ(motd->tree_folder, "payloads/motd");
  ASSERT_EQ(motd->files.size(), 2u);
  EXPECT_EQ(motd->files[0].path, "install.sh");
  EXPECT_EQ(motd->files[0].mode, 0755u);
  EXPECT_EQ(*(*snap)->ReadFile(*motd, motd->files[1]), "hello\n");
  EXPECT_EQ(motd->digest, *(*snap)->Digest(payloads[0]));

  auto tool = (*snap)->Content(payloads[1]);
  ASSERT_TRUE(tool.ok()) << tool.status().ToString();
  EXPECT_EQ(tool->local_path, art / "tool.deb");
  ASSERT_EQ(tool->files.size(), 1u);
  EXPECT_EQ(tool->files[0].path, "tool.deb");
  EXPECT_EQ(tool->files[0].size, 4u);
  EXPECT_EQ(*(*snap)->ReadFile(*tool, tool->files[0]), "deb!");
  EXPECT_EQ(tool->digest, *(*snap)->Digest(payloads[1]));

  // The url: payload's identity needs no download; its content does.
  auto plugin_digest = (*snap)->Digest(payloads[2]);
  ASSERT_TRUE(plugin_digest.ok());
  EXPECT_EQ(plugin_digest->size(), 64u);
  EXPECT_FALSE((*snap)->Content(payloads[2]).ok());

  // The same revision is memoised.
  EXPECT_EQ(src->Load(c)->get(), snap->get());
}

TEST_F(SourceTest, PollThroughFileRemoteFollowsForcePushAndSurvivesOutage) {
  std::string c1 = CommitValid("1", "echo 1");
  TempDir remote;
  std::string bare = remote / "r.git";
  gitdisc::testing::Git(remote.path(), "init -q --bare " + gitdisc::testing::ShellQuote(bare));
  w_.Run("push -q " + gitdisc::testing::ShellQuote(bare) + " main");
  auto src = Open("file://" + bare);
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->State()->tip, c1);

  std::string c2 = CommitValid("2", "echo 2");
  w_.Run("push -q " + gitdisc::testing::ShellQuote(bare) + " main");
  auto st = src->Poll();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->fetch_status.ok());
  EXPECT_EQ(st->tip, c2);

  w_.Run("reset -q --hard " + c1);
  std::string c3 = CommitValid("3", "echo 3");
  w_.Run("push -q -f " + gitdisc::testing::ShellQuote(bare) + " main");
  st = src->Poll();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->tip, c3);
  EXPECT_EQ(st->newest_valid, c3);

  std::filesystem::rename(bare, bare + ".away");
  st = src->Poll();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_FALSE(st->fetch_status.ok());
  EXPECT_EQ(st->tip, c3);
  EXPECT_EQ(st->newest_valid, c3);
}

TEST_F(SourceTest, DirtyTreeNote) {
  CommitValid("1", "echo");
  auto src = Open();
  ASSERT_NE(src, nullptr);
  EXPECT_FALSE(src->DirtyTreeNote().has_value());
  w_.Write("web.yaml", "garbage: [\n");
  auto note = src->DirtyTreeNote();
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("web.yaml"), std::string::npos);
  EXPECT_TRUE(src->Load("")->get()->valid());  // the committed specs, not the edit
}

}  // namespace
}  // namespace gitdisc::specs
