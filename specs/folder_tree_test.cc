#include "specs/folder_tree.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "specs/test_folder.h"

namespace gitdisc::specs {
namespace {

std::unique_ptr<RepoTree> Open(const TestFolder& dir) {
  auto t = OpenFolderTree(dir.path());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(FolderTree, StatsFilesFoldersAndSymlinksWithoutFollowing) {
  TestFolder dir;
  dir.Write("a/run.sh", "#!/bin/sh\n", 0700);
  dir.Write("a/data.txt", "hello", 0640);
  dir.Symlink("a/link", "/etc/passwd");
  auto tree = Open(dir);
  EXPECT_EQ(tree->Describe(), "folder " + dir.path());
  EXPECT_EQ(tree->Revision(), "");
  EXPECT_EQ(tree->CommitTime(), 0);

  auto run = tree->Stat("a/run.sh");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->type, RepoTree::Type::kFile);
  EXPECT_EQ(run->mode, 0755u);
  EXPECT_EQ(run->size, 10u);
  auto data = tree->Stat("a/data.txt");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->mode, 0644u);
  auto link = tree->Stat("a/link");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->type, RepoTree::Type::kSymlink);
  EXPECT_EQ(link->size, 11u);
  EXPECT_EQ(*tree->ReadLink("a/link"), "/etc/passwd");
  auto folder = tree->Stat("a");
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(folder->type, RepoTree::Type::kDir);
  EXPECT_EQ(tree->Stat("").value().type, RepoTree::Type::kDir);
  EXPECT_TRUE(tree->Stat("a/nope").status().IsNotFound());
}

TEST(FolderTree, NeverReadsThroughSymlinks) {
  TestFolder outside;
  outside.Write("secret", "s3cret");
  TestFolder dir;
  dir.Symlink("file", outside.Abs("secret"));
  dir.Symlink("dir", outside.path());
  auto tree = Open(dir);
  auto f = tree->ReadFile("file");
  EXPECT_FALSE(f.ok());
  auto through = tree->ReadFile("dir/secret");
  EXPECT_FALSE(through.ok());
  EXPECT_TRUE(tree->Stat("dir/secret").status().IsNotFound());
  auto list = tree->List("dir", false);
  EXPECT_FALSE(list.ok());
}

TEST(FolderTree, ListsSortedRecursiveAndHidesDotGitAndSpecialFiles) {
  TestFolder dir;
  dir.Write("b/x.yaml", "x");
  dir.Write("a.yaml", "a");
  dir.Write("b/c/d.yml", "d");
  dir.Write(".git/config", "[core]");
  ASSERT_EQ(::mkfifo(dir.Abs("b/fifo").c_str(), 0600), 0);
  auto tree = Open(dir);
  auto all = tree->List("", true);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> paths;
  for (const auto& e : *all) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"a.yaml", "b", "b/c", "b/c/d.yml", "b/x.yaml"}));
  auto top = tree->List("b", false);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].path, "b/c");
  EXPECT_TRUE(tree->Stat(".git").status().IsNotFound());
  EXPECT_FALSE(tree->ReadFile("b/fifo").ok());  // refused, not blocking
}

TEST(FolderTree, ReadFileHonoursTheLimit) {
  TestFolder dir;
  dir.Write("f", std::string(100, 'x'));
  auto tree = Open(dir);
  EXPECT_EQ(tree->ReadFile("f", 100).value(), std::string(100, 'x'));
  auto over = tree->ReadFile("f", 99);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Status::Code::kInvalid);
}

TEST(FolderTree, RefusesPathsThatAreNotNormal) {
  TestFolder dir;
  dir.Write("a", "x");
  auto tree = Open(dir);
  for (const char* bad : {"../a", "/etc/passwd", "./a", "a/", "a//b"}) {
    EXPECT_EQ(tree->ReadFile(bad).status().code(), Status::Code::kInvalid) << bad;
    EXPECT_EQ(tree->Stat(bad).status().code(), Status::Code::kInvalid) << bad;
  }
}

TEST(FolderTree, OpenFailsForMissingOrFile) {
  TestFolder dir;
  dir.Write("f", "x");
  EXPECT_TRUE(OpenFolderTree(dir.Abs("missing")).status().IsNotFound());
  EXPECT_EQ(OpenFolderTree(dir.Abs("f")).status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace gitdisc::specs
