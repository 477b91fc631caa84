// Private to specs/git_*.cc: the state behind a GitRepository, shared by the
// files that implement its methods (git_repository.cc: opening, fetching,
// revisions, trees; git_history.cc: signatures and commit ranges). Every
// libgit2 call on handle->repo happens under handle->mu.
#ifndef GITDISC_SPECS_GIT_REPOSITORY_IMPL_H_
#define GITDISC_SPECS_GIT_REPOSITORY_IMPL_H_

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "specs/git_internal.h"
#include "specs/git_repository.h"

namespace gitdisc::specs {

struct GitRepository::Impl {
  std::shared_ptr<git_internal::GitRepoHandle> handle;
  std::string location;
  std::string path;
  bool remote = false;
  bool bare = false;
  GitOpenOptions options;
  Status fetch_status;

  git_repository* repo() const { return handle->repo.get(); }
  Status Ready() const {
    if (handle->repo != nullptr) return Status::Ok();
    return fetch_status.ok() ? Status::Unavailable("no mirror of " + location + " yet")
                             : fetch_status;
  }

  Result<git_internal::GitObjectPtr> PeelToCommit(std::string_view rev) const;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GIT_REPOSITORY_IMPL_H_
