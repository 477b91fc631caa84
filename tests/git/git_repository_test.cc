// GitRepository and GitTree against real repositories made with `git`.
#include "specs/git_repository.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/file_util.h"
#include "specs/git_library.h"
#include "specs/git_tree.h"
#include "tests/git/git_test_util.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::Git;
using gitdisc::testing::ShellQuote;
using gitdisc::testing::TempDir;
using gitdisc::testing::WorkRepo;

class GitRepositoryTest : public ::testing::Test {
 protected:
  GitLibrary lib_;
  TempDir state_;

  GitOpenOptions Options() const {
    GitOpenOptions o;
    o.state_dir = state_.path();
    o.fetch_timeout = std::chrono::seconds(60);
    return o;
  }
  std::unique_ptr<GitRepository> OpenOrDie(const std::string& where) {
    auto r = GitRepository::Open(lib_, where, Options());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
};

TEST(GitLocation, TellsRemotesFromPaths) {
  EXPECT_TRUE(IsRemoteLocation("file:///srv/repo.git"));
  EXPECT_TRUE(IsRemoteLocation("https://example.com/fleet.git"));
  EXPECT_TRUE(IsRemoteLocation("ssh://git@example.com/fleet.git"));
  EXPECT_TRUE(IsRemoteLocation("git@example.com:org/fleet.git"));
  EXPECT_FALSE(IsRemoteLocation("."));
  EXPECT_FALSE(IsRemoteLocation("/srv/repo"));
  EXPECT_FALSE(IsRemoteLocation("./a:b"));
  EXPECT_EQ(MirrorName("file:///x").size(), 16u);
  EXPECT_NE(MirrorName("file:///x"), MirrorName("file:///y"));
}

TEST_F(GitRepositoryTest, ReadsCommittedTreeWithModesSymlinksAndSubmodules) {
  WorkRepo w;
  w.Write("specs/a.yaml", "kind: x\n");
  w.Write("payloads/motd/install.sh", "#!/bin/sh\necho hi\n", 0755);
  w.Write("payloads/motd/motd", "hello\n");
  gitdisc::testing::Symlink("motd", w / "payloads/motd/link");
  std::string first = w.Commit("first");
  // A submodule entry (gitlink) without a .gitmodules checkout.
  w.Run("update-index --add --cacheinfo 160000," + first + ",payloads/sub");
  w.Run("commit -q -m sub");
  std::string head = w.Run("rev-parse HEAD");

  auto repo = OpenOrDie(w.path());
  ASSERT_NE(repo, nullptr);
  EXPECT_FALSE(repo->remote());
  EXPECT_FALSE(repo->bare());
  EXPECT_EQ(*repo->DefaultBranch(), "main");
  EXPECT_EQ(*repo->BranchTip(""), head);

  auto tree = repo->TreeAt(head);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  const GitTree& t = **tree;
  EXPECT_EQ(t.Revision(), head);
  EXPECT_EQ(t.Describe(), "commit " + head.substr(0, 7));
  EXPECT_GT(t.CommitTime(), 1600000000);

  auto list = t.List("payloads", true);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> paths;
  for (const auto& e : *list) paths.push_back(e.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"payloads/motd", "payloads/motd/install.sh",
                                      "payloads/motd/link", "payloads/motd/motd", "payloads/sub"}));
  EXPECT_EQ((*list)[0].type, RepoTree::Type::kDir);
  EXPECT_EQ((*list)[1].type, RepoTree::Type::kFile);
  EXPECT_EQ((*list)[1].mode, 0755u);
  EXPECT_EQ((*list)[1].size, 18u);
  EXPECT_EQ((*list)[2].type, RepoTree::Type::kSymlink);
  EXPECT_EQ((*list)[2].size, 4u);
  EXPECT_EQ((*list)[3].mode, 0644u);
  EXPECT_EQ((*list)[4].type, RepoTree::Type::kSubmodule);

  // The spec loader's listing: the same entries without the object-header reads.
  auto unsized = t.ListWithoutSizes("payloads", true);
  ASSERT_TRUE(unsized.ok()) << unsized.status().ToString();
  ASSERT_EQ(unsized->size(), list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    EXPECT_EQ((*unsized)[i].path, (*list)[i].path);
    EXPECT_EQ((*unsized)[i].type, (*list)[i].type);
    EXPECT_EQ((*unsized)[i].mode, (*list)[i].mode);
    EXPECT_EQ((*unsized)[i].size, 0u) << (*unsized)[i].path;
  }

  auto shallow = t.List("", false);
  ASSERT_TRUE(shallow.ok());
  ASSERT_EQ(shallow->size(), 2u);
  EXPECT_EQ((*shallow)[0].path, "payloads");
  EXPECT_EQ((*shallow)[1].path, "specs");

  EXPECT_EQ(*t.ReadFile("payloads/motd/motd"), "hello\n");
  EXPECT_EQ(*t.ReadLink("payloads/motd/link"), "motd");
  EXPECT_EQ(t.ReadFile("payloads/motd/link").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(t.ReadFile("payloads/sub").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(t.ReadFile("payloads").status().code(), Status::Code::kInvalid);
  EXPECT_TRUE(t.Stat("nope/x").status().IsNotFound());
  EXPECT_EQ(t.Stat("../etc").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(t.Stat("payloads/./motd").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(t.Stat("").value().type, RepoTree::Type::kDir);
  EXPECT_EQ(t.FolderId("payloads/motd")->size(), 40u);
  EXPECT_EQ(t.FolderId("payloads/motd/motd").status().code(), Status::Code::kInvalid);
}

TEST_F(GitRepositoryTest, RefusesHugeBlobBeforeLoadingIt) {
  WorkRepo w;
  w.Write("big.bin", std::string(3 << 20, 'x'));
  std::string head = w.Commit("big");
  auto repo = OpenOrDie(w.path());
  ASSERT_NE(repo, nullptr);
  auto tree = repo->TreeAt(head);
  ASSERT_TRUE(tree.ok());
  auto r = (*tree)->ReadFile("big.bin", 1 << 20);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_NE(r.status().message().find("larger than the limit"), std::string::npos)
      << r.status().message();
  EXPECT_EQ((*tree)->ReadFile("big.bin")->size(), size_t{3} << 20);
}

TEST_F(GitRepositoryTest, ResolvesShasTagsAndBranches) {
  WorkRepo w;
  w.Write("a", "1");
  std::string c1 = w.Commit("one");
  w.Run("tag v1");
  w.Run("tag -a -m annotated v1a");
  w.Write("a", "2");
  std::string c2 = w.Commit("two");
  w.Run("branch feature " + c1);

  auto repo = OpenOrDie(w.path());
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(*repo->ResolveRevision(c1), c1);
  EXPECT_EQ(*repo->ResolveRevision(c1.substr(0, 8)), c1);
  EXPECT_EQ(*repo->ResolveRevision("v1"), c1);
  EXPECT_EQ(*repo->ResolveRevision("v1a"), c1);  // annotated tag peeled to its commit
  EXPECT_EQ(*repo->ResolveRevision("feature"), c1);
  EXPECT_EQ(*repo->ResolveRevision("main"), c2);
  EXPECT_EQ(*repo->ResolveRevision("HEAD~1"), c1);
  EXPECT_EQ(*repo->BranchTip("feature"), c1);
  EXPECT_TRUE(repo->BranchTip("nope").status().IsNotFound());
  auto unknown = repo->ResolveRevision("deadbeefdeadbeef");
  EXPECT_TRUE(unknown.status().IsNotFound()) << unknown.status().ToString();
  EXPECT_TRUE(repo->ResolveRevision("no-such-tag").status().IsNotFound());

  auto info = repo->Commit(c2);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->summary, "two");
  EXPECT_EQ(info->parents, std::vector<std::string>{c1});
}

TEST_F(GitRepositoryTest, ReadsCommittedContentNotTheDirtyWorkingTree) {
  WorkRepo w;
  w.Write("spec.yaml", "committed\n");
  std::string head = w.Commit("c");
  auto repo = OpenOrDie(w.path());
  ASSERT_NE(repo, nullptr);
  EXPECT_TRUE(repo->UncommittedChanges()->empty());

  w.Write("spec.yaml", "edited but not committed\n");
  w.Write("new.yaml", "untracked\n");
  auto changes = repo->UncommittedChanges();
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  EXPECT_EQ(*changes, (std::vector<std::string>{"new.yaml", "spec.yaml"}));
  auto tree = repo->TreeAt(*repo->BranchTip(""));
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(*(*tree)->ReadFile("spec.yaml"), "committed\n");
  EXPECT_TRUE((*tree)->Stat("new.yaml").status().IsNotFound());
}

TEST_F(GitRepositoryTest, OpensBareRepositoryInPlace) {
  WorkRepo w;
  w.Write("a", "1");
  std::string c1 = w.Commit("one");
  TempDir bare;
  Git(bare.path(), "clone -q --bare " + ShellQuote(w.path()) + " " + ShellQuote(bare / "r.git"));
  auto repo = OpenOrDie(bare / "r.git");
  ASSERT_NE(repo, nullptr);
  EXPECT_TRUE(repo->bare());
  EXPECT_FALSE(repo->remote());
  EXPECT_EQ(*repo->BranchTip(""), c1);
  EXPECT_TRUE(repo->UncommittedChanges()->empty());
}

TEST_F(GitRepositoryTest, PlainFolderIsNotARepository) {
  TempDir plain;
  gitdisc::testing::WriteText(plain / "x.yaml", "a: 1\n");
  auto r = GitRepository::Open(lib_, plain.path(), Options());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("not a Git repository"), std::string::npos);
  EXPECT_TRUE(GitRepository::Open(lib_, plain / "missing", Options()).status().IsNotFound());
}

// A bare "remote" and a working clone that pushes to it.
struct Remote {
  TempDir dir;
  std::string bare = dir / "remote.git";
  WorkRepo work;
  Remote() {
    Git(dir.path(), "init -q --bare " + ShellQuote(bare));
    work.Run("remote add origin " + ShellQuote(bare));
  }
  std::string url() const { return "file://" + bare; }
  std::string CommitAndPush(const std::string& file, const std::string& text,
                            const std::string& branch = "main") {
    work.Write(file, text);
    std::string sha = work.Commit("change " + file);
    work.Run("push -q origin HEAD:" + branch);
    return sha;
  }
};

TEST_F(GitRepositoryTest, MirrorsFileRemoteAndFollowsNewCommits) {
  Remote remote;
  std::string c1 = remote.CommitAndPush("a", "1");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  EXPECT_TRUE(repo->remote());
  EXPECT_EQ(repo->path(), JoinPath(JoinPath(state_.path(), "mirrors"), MirrorName(remote.url())));
  EXPECT_TRUE(PathExists(repo->path() + "/HEAD"));
  EXPECT_EQ(*repo->DefaultBranch(), "main");
  EXPECT_EQ(*repo->BranchTip(""), c1);

  std::string c2 = remote.CommitAndPush("a", "2");
  remote.work.Run("tag v2");
  remote.work.Run("push -q origin v2");
  EXPECT_TRUE(repo->Fetch().ok()) << repo->fetch_status().ToString();
  EXPECT_EQ(*repo->BranchTip(""), c2);
  EXPECT_EQ(*repo->ResolveRevision("v2"), c2);
  auto tree = repo->TreeAt(c2);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(*(*tree)->ReadFile("a"), "2");

  // A second Open reuses the mirror.
  auto again = OpenOrDie(remote.url());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->BranchTip("main"), c2);
}

TEST_F(GitRepositoryTest, FollowsForcePushedBranch) {
  Remote remote;
  std::string c1 = remote.CommitAndPush("a", "1");
  std::string c2 = remote.CommitAndPush("a", "2");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(*repo->BranchTip(""), c2);

  // Rewrite history: drop c2, commit something else, force-push.
  remote.work.Run("reset -q --hard " + c1);
  remote.work.Write("b", "rewritten");
  std::string c3 = remote.work.Commit("rewritten");
  remote.work.Run("push -q -f origin HEAD:main");
  ASSERT_TRUE(repo->Fetch().ok()) << repo->fetch_status().ToString();
  EXPECT_EQ(*repo->BranchTip(""), c3);
  auto info = repo->Commit(c3);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->parents, std::vector<std::string>{c1});
}

TEST_F(GitRepositoryTest, FollowsOtherBranchesAndPrunesDeletedOnes) {
  Remote remote;
  remote.CommitAndPush("a", "1");
  std::string f = remote.CommitAndPush("b", "feature", "feature");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(*repo->BranchTip("feature"), f);
  remote.work.Run("push -q origin :feature");
  ASSERT_TRUE(repo->Fetch().ok());
  EXPECT_TRUE(repo->BranchTip("feature").status().IsNotFound());
}

TEST_F(GitRepositoryTest, UnreachableRemoteWithoutMirrorFails) {
  TempDir nowhere;
  auto r = GitRepository::Open(lib_, "file://" + (nowhere / "missing.git"), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing.git"), std::string::npos) << r.status().ToString();
  // No half-made mirror is left behind.
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(state_ / "mirrors")) {
    if (e.path().extension() != ".lock") left.push_back(e.path().string());
  }
  EXPECT_TRUE(left.empty()) << left.front();
}

TEST_F(GitRepositoryTest, FailedFetchKeepsMirrorAndLastKnownRevision) {
  Remote remote;
  std::string c1 = remote.CommitAndPush("a", "1");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  std::filesystem::rename(remote.bare, remote.bare + ".away");
  Status s = repo->Fetch();
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(repo->fetch_status().ok());
  EXPECT_EQ(*repo->BranchTip(""), c1);
  // Opening again while the remote is away still works from the mirror.
  auto again = GitRepository::Open(lib_, remote.url(), Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE((*again)->fetch_status().ok());
  EXPECT_EQ(*(*again)->BranchTip(""), c1);
  std::filesystem::rename(remote.bare + ".away", remote.bare);
  EXPECT_TRUE(repo->Fetch().ok());
}

TEST_F(GitRepositoryTest, RecloneCorruptedMirror) {
  Remote remote;
  std::string c1 = remote.CommitAndPush("a", "1");
  std::string mirror;
  {
    auto repo = OpenOrDie(remote.url());
    ASSERT_NE(repo, nullptr);
    mirror = repo->path();
  }
  // Damage 1: every object gone (refs now point at nothing).
  std::filesystem::remove_all(mirror + "/objects");
  std::filesystem::create_directories(mirror + "/objects/pack");
  {
    auto repo = OpenOrDie(remote.url());
    ASSERT_NE(repo, nullptr);
    EXPECT_TRUE(repo->fetch_status().ok()) << repo->fetch_status().ToString();
    EXPECT_EQ(*repo->BranchTip(""), c1);
    EXPECT_EQ(*(*repo->TreeAt(c1))->ReadFile("a"), "1");
  }
  // Damage 2: not a repository any more.
  gitdisc::testing::WriteText(mirror + "/HEAD", "garbage");
  std::filesystem::remove(mirror + "/config");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(*repo->BranchTip(""), c1);
  // Nothing left over from the swap.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(state_ / "mirrors")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2);  // the mirror and its lock file
}

TEST_F(GitRepositoryTest, TreesOutliveRefetchAndRepository) {
  Remote remote;
  std::string c1 = remote.CommitAndPush("a", "1");
  auto repo = OpenOrDie(remote.url());
  ASSERT_NE(repo, nullptr);
  auto tree = repo->TreeAt(c1);
  ASSERT_TRUE(tree.ok());
  remote.CommitAndPush("a", "2");
  ASSERT_TRUE(repo->Fetch().ok());
  repo.reset();
  EXPECT_EQ(*(*tree)->ReadFile("a"), "1");
}

TEST_F(GitRepositoryTest, RefusesPasswordInUrl) {
  auto r = GitRepository::Open(lib_, "https://user:secret@example.invalid/r.git", Options());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos);
}

TEST_F(GitRepositoryTest, ListsTenThousandFiles) {
  WorkRepo w;
  // fast-import makes the big tree quickly without touching the disk per file.
  std::string stream;
  stream += "commit refs/heads/main\ncommitter t <t@t> 1700000000 +0000\ndata 4\nbig\n";
  for (int i = 0; i < 10000; ++i) {
    std::string content = "file " + std::to_string(i) + "\n";
    stream += "M 100644 inline payloads/many/d" + std::to_string(i % 100) + "/f" +
              std::to_string(i) + "\ndata " + std::to_string(content.size()) + "\n" + content;
  }
  gitdisc::testing::WriteText(w / ".git/stream.fi", stream);
  w.Run("fast-import --quiet < " + ShellQuote(w / ".git/stream.fi"));
  std::filesystem::remove(w / ".git/stream.fi");
  auto repo = OpenOrDie(w.path());
  ASSERT_NE(repo, nullptr);
  auto tree = repo->TreeAt(*repo->ResolveRevision("main"));
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  auto list = (*tree)->List("payloads/many", true);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 10100u);  // 10,000 files + 100 folders
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(),
                             [](const auto& a, const auto& b) { return a.path < b.path; }));
}

}  // namespace
}  // namespace gitdisc::specs
