// Payload folders read from real Git commits: modes, symlinks, errors, and
// the digest cache keyed by tree id.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/git_library.h"
#include "specs/git_repository.h"
#include "specs/payload_cache.h"
#include "specs/payload_content.h"
#include "specs/payload_digest.h"
#include "tests/git/git_test_util.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::Symlink;
using gitdisc::testing::TempDir;
using gitdisc::testing::WorkRepo;

class PayloadGitTest : public ::testing::Test {
 protected:
  GitLibrary lib_;
  TempDir state_;
  WorkRepo w_;

  std::unique_ptr<GitTree> TreeAtHead() {
    GitOpenOptions o;
    o.state_dir = state_.path();
    auto repo = GitRepository::Open(lib_, w_.path(), o);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    auto tree = (*repo)->TreeAt(*(*repo)->BranchTip(""));
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    return std::move(tree).value();
  }
};

TEST_F(PayloadGitTest, ListsFilesWithModesDigestsAndInsideSymlinks) {
  w_.Write("payloads/motd/install.sh", "#!/bin/sh\n", 0755);
  w_.Write("payloads/motd/etc/motd", "hello\n");
  Symlink("etc/motd", w_ / "payloads/motd/current");
  Symlink("../install.sh", w_ / "payloads/motd/etc/run");
  w_.Write("other/file", "not in the payload\n");
  w_.Commit("c");
  auto tree = TreeAtHead();

  auto files = ListPayloadFolder(*tree, "payloads/motd");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ((*files)[0].path, "current");
  EXPECT_TRUE((*files)[0].is_symlink());
  EXPECT_EQ((*files)[0].symlink_target, "etc/motd");
  EXPECT_EQ((*files)[0].sha256, Sha256Hex("etc/motd"));
  EXPECT_EQ((*files)[0].PosixMode(), 0120777u);
  EXPECT_EQ((*files)[1].path, "etc/motd");
  EXPECT_EQ((*files)[1].mode, 0644u);
  EXPECT_EQ((*files)[1].size, 6u);
  EXPECT_EQ((*files)[1].sha256, Sha256Hex("hello\n"));
  EXPECT_EQ((*files)[2].path, "etc/run");
  EXPECT_EQ((*files)[3].path, "install.sh");
  EXPECT_EQ((*files)[3].mode, 0755u);
  EXPECT_EQ((*files)[3].PosixMode(), 0100755u);
}

TEST_F(PayloadGitTest, SymlinkLeavingTheFolderIsAnError) {
  w_.Write("payloads/p/a", "x");
  Symlink("../../other", w_ / "payloads/p/out");
  w_.Commit("c");
  auto files = ListPayloadFolder(*TreeAtHead(), "payloads/p");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), Status::Code::kInvalid);
  EXPECT_NE(files.status().message().find("'out'"), std::string::npos) << files.status().message();
  EXPECT_NE(files.status().message().find("leaves the payload folder"), std::string::npos);
}

TEST_F(PayloadGitTest, AbsoluteSymlinkIsAnError) {
  Symlink("/etc/passwd", w_ / "payloads/p/pw");
  w_.Commit("c");
  auto files = ListPayloadFolder(*TreeAtHead(), "payloads/p");
  EXPECT_NE(files.status().message().find("absolute"), std::string::npos)
      << files.status().ToString();
}

TEST_F(PayloadGitTest, SymlinkLoopIsAnError) {
  Symlink("b", w_ / "payloads/p/a");
  Symlink("a", w_ / "payloads/p/b");
  Symlink("self", w_ / "payloads/p/self");
  w_.Commit("c");
  auto files = ListPayloadFolder(*TreeAtHead(), "payloads/p");
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("loop"), std::string::npos) << files.status().message();
}

TEST_F(PayloadGitTest, SymlinkThroughLinkedFolderThatEscapesIsAnError) {
  Symlink("..", w_ / "payloads/p/up");  // points at the payload's parent: escapes
  w_.Write("payloads/p/keep", "x");
  w_.Commit("c");
  EXPECT_FALSE(ListPayloadFolder(*TreeAtHead(), "payloads/p").ok());
  // And a link via a link that stays inside is fine.
  WorkRepo w2;
  w2.Write("p/d/f", "x");
  Symlink("d", w2 / "p/dl");
  Symlink("dl/f", w2 / "p/fl");
  w2.Commit("c");
  GitOpenOptions o;
  auto repo = GitRepository::Open(lib_, w2.path(), o);
  ASSERT_TRUE(repo.ok());
  auto tree = (*repo)->TreeAt(*(*repo)->BranchTip(""));
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE(ListPayloadFolder(**tree, "p").ok());
}

TEST_F(PayloadGitTest, SubmoduleMissingFolderAndFileAreErrors) {
  w_.Write("payloads/p/a", "x");
  w_.Write("payloads/file", "x");
  std::string c = w_.Commit("c");
  w_.Run("update-index --add --cacheinfo 160000," + c + ",payloads/p/sub");
  w_.Run("commit -q -m sub");
  auto tree = TreeAtHead();
  auto sub = ListPayloadFolder(*tree, "payloads/p");
  EXPECT_NE(sub.status().message().find("submodule"), std::string::npos) << sub.status().ToString();
  auto missing = ListPayloadFolder(*tree, "payloads/nope");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  auto file = ListPayloadFolder(*tree, "payloads/file");
  EXPECT_NE(file.status().message().find("not a folder"), std::string::npos);
}

TEST_F(PayloadGitTest, FileOverTheLimitIsAnError) {
  w_.Write("payloads/p/big", std::string(2 << 20, 'b'));
  w_.Commit("c");
  PayloadLimits limits;
  limits.max_file_bytes = 1 << 20;
  auto files = ListPayloadFolder(*TreeAtHead(), "payloads/p", limits);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find("over the limit"), std::string::npos);
}

TEST_F(PayloadGitTest, CacheHashesAnUnchangedFolderOnce) {
  w_.Write("payloads/a/f", "1");
  w_.Write("payloads/b/f", "2");
  w_.Commit("c1");
  auto t1 = TreeAtHead();
  PayloadContentCache cache(state_.path());
  auto a1 = cache.List(*t1, "payloads/a");
  ASSERT_TRUE(a1.ok());
  EXPECT_EQ(cache.stats().misses, 1u);
  ASSERT_TRUE(cache.List(*t1, "payloads/a").ok());
  EXPECT_EQ(cache.stats().memory_hits, 1u);

  // A new commit that changes only folder b: a is served from memory.
  w_.Write("payloads/b/f", "3");
  w_.Commit("c2");
  auto t2 = TreeAtHead();
  auto a2 = cache.List(*t2, "payloads/a");
  ASSERT_TRUE(a2.ok());
  EXPECT_EQ(*a2, *a1);
  EXPECT_EQ(cache.stats().memory_hits, 2u);
  auto b2 = cache.List(*t2, "payloads/b");
  ASSERT_TRUE(b2.ok());
  EXPECT_EQ((*b2)[0].sha256, Sha256Hex("3"));
  EXPECT_EQ(cache.stats().misses, 2u);

  // A new process (new cache object) finds both on disk.
  std::string id = *t2->FolderId("payloads/b");
  EXPECT_TRUE(PathExists(state_ / ("digests/" + id + ".json")));
  PayloadContentCache fresh(state_.path());
  EXPECT_EQ(*fresh.List(*t2, "payloads/b"), *b2);
  EXPECT_EQ(fresh.stats().disk_hits, 1u);
  EXPECT_EQ(fresh.stats().misses, 0u);

  // A damaged cache file is ignored and rewritten.
  gitdisc::testing::WriteText(state_ / ("digests/" + id + ".json"), "{not json");
  PayloadContentCache third(state_.path());
  EXPECT_EQ(*third.List(*t2, "payloads/b"), *b2);
  EXPECT_EQ(third.stats().misses, 1u);
  EXPECT_EQ(*ReadFile(state_ / ("digests/" + id + ".json")).value().begin(), '{');
}

TEST_F(PayloadGitTest, DigestChangesWithContentAndModeButNotWithTimeout) {
  w_.Write("p/run.sh", "echo 1\n", 0644);
  w_.Commit("c1");
  auto t1 = TreeAtHead();
  Payload payload;
  payload.name = "motd";
  payload.version = "1";
  payload.source = PathSource{"p"};
  payload.run = {"./run.sh"};
  auto f1 = ListPayloadFolder(*t1, "p");
  ASSERT_TRUE(f1.ok());
  std::string d1 = PayloadDigest(payload, *f1);

  w_.Run("update-index --chmod=+x p/run.sh");
  w_.Run("commit -q -m mode");
  auto f2 = ListPayloadFolder(*TreeAtHead(), "p");
  ASSERT_TRUE(f2.ok());
  EXPECT_NE(PayloadDigest(payload, *f2), d1);
  EXPECT_NE(ContentDigest(*f2), ContentDigest(*f1));

  Payload later = payload;
  later.timeout = std::chrono::seconds(5);
  later.after = {"other"};
  EXPECT_EQ(PayloadDigest(later, *f1), d1);
  later.env["A"] = "b";
  EXPECT_NE(PayloadDigest(later, *f1), d1);
}

}  // namespace
}  // namespace gitdisc::specs
