// RepoTree: a read-only view of a repository's files at one revision.
//
// Specs and payload folders are always read through this interface, so the
// same parser and validator work on a commit read from Git's object database
// (specs/git_tree.h) and on a plain folder (specs/folder_tree.h, for tests and
// `iso build`). Paths are relative to the tree's root, '/'-separated, without
// "." or ".." components; "" is the root itself.
//
// Implementations are immutable after construction and safe for concurrent
// reads.
#ifndef GITDISC_SPECS_REPO_TREE_H_
#define GITDISC_SPECS_REPO_TREE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::specs {

class RepoTree {
 public:
  enum class Type { kFile, kDir, kSymlink, kSubmodule };
  struct Entry {
    std::string path;  // relative to the tree root
    Type type = Type::kFile;
    uint32_t mode = 0644;  // permission bits (0755 for executables)
    uint64_t size = 0;     // bytes, for files and symlinks
  };

  virtual ~RepoTree() = default;

  // What this tree is, for messages: "commit 1a2b3c4" or "folder /x".
  virtual std::string Describe() const = 0;
  // The revision (full commit SHA) this tree belongs to; "" for a folder.
  virtual std::string Revision() const = 0;
  // Seconds since the epoch of the commit (for reproducible ISO times); 0 for a folder.
  virtual int64_t CommitTime() const = 0;

  // One entry; kNotFound when the path does not exist.
  virtual Result<Entry> Stat(std::string_view path) const = 0;
  // Entries below a folder, sorted by path; recursive lists every level
  // (folders included) without following symlinks.
  virtual Result<std::vector<Entry>> List(std::string_view dir, bool recursive) const = 0;
  // List for callers that need only paths, types and modes (the spec
  // loader): `size` may be left 0. A Git tree then skips one object-header
  // read per blob — for a loose object, a file open and an inflate.
  virtual Result<std::vector<Entry>> ListWithoutSizes(std::string_view dir, bool recursive) const {
    return List(dir, recursive);
  }
  // A file's content; kInvalid when it is larger than max_bytes.
  virtual Result<std::string> ReadFile(std::string_view path,
                                       uint64_t max_bytes = UINT64_MAX) const = 0;
  // A symlink's target, as stored.
  virtual Result<std::string> ReadLink(std::string_view path) const = 0;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_REPO_TREE_H_
