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

#include "base/c_handle.h"
#include "base/status.h"

namespace gitdisc::specs::git_internal {

using GitRepoPtr = CHandle<git_repository, git_repository_free>;
using GitObjectPtr = CHandle<git_object, git_object_free>;
using GitCommitPtr = CHandle<git_commit, git_commit_free>;
using GitTreePtr = CHandle<git_tree, git_tree_free>;
using GitTreeEntryPtr = CHandle<git_tree_entry, git_tree_entry_free>;
using GitBlobPtr = CHandle<git_blob, git_blob_free>;
using GitReferencePtr = CHandle<git_reference, git_reference_free>;
using GitRemotePtr = CHandle<git_remote, git_remote_free>;
using GitOdbPtr = CHandle<git_odb, git_odb_free>;
using GitStatusListPtr = CHandle<git_status_list, git_status_list_free>;
using GitRefIteratorPtr = CHandle<git_reference_iterator, git_reference_iterator_free>;

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
