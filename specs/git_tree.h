// GitTree: a RepoTree over one commit's tree, read straight from the object
// database of a GitRepository (no checkout, no working tree), so specs and
// payload folders are exactly what was committed.
//
// Modes come from Git: 100644 → kFile 0644, 100755 → kFile 0755, 120000 →
// kSymlink (mode 0777, size = length of the target), 160000 → kSubmodule
// (mode 0, never readable), 040000 → kDir (0755). List() is sorted by path.
// ReadFile() checks a blob's size in the object header before loading it, so a
// huge blob over max_bytes is refused without being inflated.
//
// A GitTree keeps its repository open (shared ownership) and may outlive the
// GitRepository that made it. Immutable; safe for concurrent reads (libgit2
// calls are serialised on the repository's lock).
#ifndef GITDISC_SPECS_GIT_TREE_H_
#define GITDISC_SPECS_GIT_TREE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/repo_tree.h"

namespace gitdisc::specs {

class GitTree final : public RepoTree {
 public:
  struct Impl;
  explicit GitTree(std::unique_ptr<Impl> impl);  // made by GitRepository::TreeAt
  ~GitTree() override;

  std::string Describe() const override;  // "commit 1a2b3c4"
  std::string Revision() const override;  // 40 hex digits
  int64_t CommitTime() const override;
  Result<Entry> Stat(std::string_view path) const override;
  Result<std::vector<Entry>> List(std::string_view dir, bool recursive) const override;
  Result<std::vector<Entry>> ListWithoutSizes(std::string_view dir, bool recursive) const override;
  Result<std::string> ReadFile(std::string_view path,
                               uint64_t max_bytes = UINT64_MAX) const override;
  Result<std::string> ReadLink(std::string_view path) const override;

  // Git's id of a folder's tree (40 hex digits): two folders with the same id
  // hold the same files, modes and bytes. Used to cache content digests.
  // kNotFound when missing, kInvalid when the path is not a folder.
  Result<std::string> FolderId(std::string_view dir) const;
  // Git's id of a file's blob.
  Result<std::string> BlobId(std::string_view path) const;

 private:
  Result<std::vector<Entry>> ListEntries(std::string_view dir, bool recursive,
                                         bool with_sizes) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GIT_TREE_H_
