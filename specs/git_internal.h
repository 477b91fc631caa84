// Private to specs/git_*.cc: RAII aliases for libgit2 handles and the
// translation of libgit2 errors into Status. Never include this from a public
// header — interface headers stay free of <git2.h> (DESIGN.md §2).
//
// A GitRepoHandle is shared (shared_ptr) by a GitRepository and every GitTree
// read from it; libgit2 objects are not safe for concurrent use, so every call
// on a handle's repository happens under its mutex.
#ifndef GITDISC_SPECS_GIT_INTERNAL_H_
#define GITDISC_SPECS_GIT_INTERNAL_H_

#include <git2.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc::specs::git_internal {

template <auto FreeFn>
struct GitFree {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) FreeFn(p);
  }
};

using GitRepoPtr = std::unique_ptr<git_repository, GitFree<git_repository_free>>;
using GitObjectPtr = std::unique_ptr<git_object, GitFree<git_object_free>>;
using GitCommitPtr = std::unique_ptr<git_commit, GitFree<git_commit_free>>;
using GitTreePtr = std::unique_ptr<git_tree, GitFree<git_tree_free>>;
using GitTreeEntryPtr = std::unique_ptr<git_tree_entry, GitFree<git_tree_entry_free>>;
using GitBlobPtr = std::unique_ptr<git_blob, GitFree<git_blob_free>>;
using GitReferencePtr = std::unique_ptr<git_reference, GitFree<git_reference_free>>;
using GitRemotePtr = std::unique_ptr<git_remote, GitFree<git_remote_free>>;
using GitOdbPtr = std::unique_ptr<git_odb, GitFree<git_odb_free>>;
using GitStatusListPtr = std::unique_ptr<git_status_list, GitFree<git_status_list_free>>;
using GitRefIteratorPtr =
    std::unique_ptr<git_reference_iterator, GitFree<git_reference_iterator_free>>;

// A git_buf that frees itself.
struct GitBuf {
  git_buf buf = GIT_BUF_INIT;
  GitBuf() = default;
  GitBuf(const GitBuf&) = delete;
  GitBuf& operator=(const GitBuf&) = delete;
  ~GitBuf() { git_buf_dispose(&buf); }
  std::string str() const { return buf.ptr ? std::string(buf.ptr, buf.size) : std::string(); }
};

// "what: <libgit2 message>" with a code chosen from rc and the error class:
// GIT_ENOTFOUND → kNotFound, network classes → kUnavailable, GIT_EAUTH →
// kPermission, object database / zlib / reference damage → kCorrupt.
// Reads git_error_last(), so call it on the failing thread at once.
Status GitError(std::string_view what, int rc);

std::string OidHex(const git_oid* oid);

struct GitRepoHandle {
  GitRepoPtr repo;
  std::mutex mu;
};

}  // namespace gitdisc::specs::git_internal

#endif  // GITDISC_SPECS_GIT_INTERNAL_H_
