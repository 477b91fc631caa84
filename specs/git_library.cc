#include "specs/git_library.h"

#include <git2.h>

#include <string>

#include "specs/git_internal.h"

namespace gitdisc::specs {

GitLibrary::GitLibrary() { git_libgit2_init(); }
GitLibrary::~GitLibrary() { git_libgit2_shutdown(); }

std::string GitLibrary::Version() {
  int major = 0, minor = 0, rev = 0;
  git_libgit2_version(&major, &minor, &rev);
  return "libgit2 " + std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(rev);
}

namespace git_internal {

Status GitError(std::string_view what, int rc) {
  const git_error* e = git_error_last();
  std::string msg(what);
  msg += ": ";
  msg += (e != nullptr && e->message != nullptr) ? e->message
                                                 : ("libgit2 error " + std::to_string(rc));
  int klass = e != nullptr ? e->klass : GIT_ERROR_NONE;
  if (rc == GIT_ENOTFOUND) return Status::NotFound(msg);
  if (rc == GIT_EAUTH || rc == GIT_ECERTIFICATE) return Status::Permission(msg);
  if (rc == GIT_EAMBIGUOUS || rc == GIT_EINVALIDSPEC) return Status::Invalid(msg);
  if (rc == GIT_ELOCKED) return Status::Unavailable(msg);
  switch (klass) {
    case GIT_ERROR_NET:
    case GIT_ERROR_SSL:
    case GIT_ERROR_SSH:
    case GIT_ERROR_HTTP:
    case GIT_ERROR_OS:
      return Status::Unavailable(msg);
    case GIT_ERROR_CALLBACK:  // our own abort, e.g. the fetch deadline
      return Status::Timeout(msg);
    case GIT_ERROR_ODB:
    case GIT_ERROR_ZLIB:
    case GIT_ERROR_OBJECT:
    case GIT_ERROR_INDEXER:
    case GIT_ERROR_REFERENCE:
    case GIT_ERROR_REPOSITORY:
    case GIT_ERROR_SHA1:
      return Status::Corrupt(msg);
    case GIT_ERROR_INVALID:
      return Status::Invalid(msg);
    default:
      return Status::Internal(msg);
  }
}

std::string OidHex(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, oid);
  return std::string(buf);
}

}  // namespace git_internal
}  // namespace gitdisc::specs
