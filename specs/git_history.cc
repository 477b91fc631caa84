// GitRepository's history reads: commit signatures and commit ranges, which
// signature verification (specs/signature_policy.h) needs.
#include <git2.h>

#include <mutex>

#include "specs/git_internal.h"
#include "specs/git_repository.h"
#include "specs/git_repository_impl.h"

namespace gitdisc::specs {

using git_internal::GitBuf;
using git_internal::GitError;
using git_internal::GitObjectPtr;
using git_internal::OidHex;

namespace {

using GitRevwalkPtr = CHandle<git_revwalk, git_revwalk_free>;

}  // namespace

Result<CommitSignatureData> GitRepository::Signature(std::string_view sha) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr obj, impl_->PeelToCommit(sha));
  auto* c = reinterpret_cast<git_commit*>(obj.get());
  CommitSignatureData out;
  git_oid id = *git_commit_id(c);
  out.commit = OidHex(&id);
  out.time = static_cast<int64_t>(git_commit_time(c));
  GitBuf signature;
  GitBuf signed_data;
  int rc = git_commit_extract_signature(&signature.buf, &signed_data.buf, impl_->repo(), &id,
                                        nullptr);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return out;  // unsigned
  }
  if (rc != 0) return GitError("read the signature of commit " + out.commit.substr(0, 7), rc);
  out.signature = signature.str();
  out.signed_data = signed_data.str();
  return out;
}

Result<std::vector<std::string>> GitRepository::CommitsBetween(
    std::string_view tip, const std::vector<std::string>& hide, size_t max) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr start, impl_->PeelToCommit(tip));
  git_revwalk* w = nullptr;
  int rc = git_revwalk_new(&w, impl_->repo());
  if (rc != 0) return GitError("walk the history of " + impl_->location, rc);
  GitRevwalkPtr walk(w);
  git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL);
  rc = git_revwalk_push(w, git_object_id(start.get()));
  if (rc != 0) return GitError("walk from " + std::string(tip), rc);
  for (const std::string& h : hide) {
    auto hidden = impl_->PeelToCommit(h);
    if (!hidden.ok()) continue;  // gone (force-pushed away): hides nothing
    rc = git_revwalk_hide(w, git_object_id(hidden->get()));
    if (rc != 0) return GitError("walk the history of " + impl_->location, rc);
  }
  std::vector<std::string> out;
  git_oid oid;
  while ((rc = git_revwalk_next(&oid, w)) == 0) {
    if (out.size() == max) {
      return Status::Invalid("more than " + std::to_string(max) + " commits since " +
                             (hide.empty() ? std::string("the first commit")
                                           : "the last verified revision"));
    }
    out.push_back(OidHex(&oid));
  }
  if (rc != GIT_ITEROVER) return GitError("walk the history of " + impl_->location, rc);
  git_error_clear();
  return out;
}

}  // namespace gitdisc::specs
