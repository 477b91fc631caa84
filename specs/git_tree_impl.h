// Private to specs/git_*.cc: the state behind a GitTree, built by
// GitRepository::TreeAt. Every method expects handle->mu to be held.
#ifndef GITDISC_SPECS_GIT_TREE_IMPL_H_
#define GITDISC_SPECS_GIT_TREE_IMPL_H_

#include <memory>
#include <string>
#include <utility>

#include "specs/git_internal.h"
#include "specs/git_tree.h"

namespace gitdisc::specs {

struct GitTree::Impl {
  std::shared_ptr<git_internal::GitRepoHandle> handle;  // declared first: freed last
  git_internal::GitOdbPtr odb;
  git_internal::GitTreePtr root;
  std::string commit;  // 40 hex
  int64_t commit_time = 0;

  std::string Describe() const;
  // (entry, is_root): the root has no git_tree_entry.
  Result<std::pair<git_internal::GitTreeEntryPtr, bool>> Lookup(std::string_view path) const;
  // with_size false: `size` stays 0 (no object-header read).
  Result<Entry> EntryFor(std::string path, const git_tree_entry* e, bool with_size = true) const;
  Result<std::string> ReadBlob(const std::string& path, const git_oid* oid,
                               uint64_t max_bytes) const;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GIT_TREE_IMPL_H_
