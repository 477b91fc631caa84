#include "specs/artifact_roots.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"

namespace gitdisc::specs {
namespace {

constexpr int kFileFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// `path` below `root` ("" when it is not): both absolute, normalised.
std::string Below(const std::string& root, const std::string& path) {
  if (root.empty()) return "";
  std::string prefix = root.back() == '/' ? root : root + "/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return "";
  return path.substr(prefix.size());
}

// openat2 with RESOLVE_BENEATH: symlinks inside the root work, escapes fail
// with EXDEV. -1/ENOSYS when the kernel (or a seccomp filter) lacks it.
int OpenBeneath(int root_fd, const std::string& rel) {
  open_how how{};
  how.flags = kFileFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
  return static_cast<int>(fd);
}

// The fallback: one component at a time, never following a symlink.
int OpenNoSymlinks(int root_fd, const std::string& rel) {
  UniqueFd dir(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos
                                                                    : slash - start);
    if (part.empty() || part == "." || part == "..") {
      errno = EXDEV;
      return -1;
    }
    if (slash == std::string::npos) return ::openat(dir.get(), part.c_str(), kFileFlags | O_NOFOLLOW);
    int next = ::openat(dir.get(), part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -1;
    dir.Reset(next);
    start = slash + 1;
  }
}

}  // namespace

ArtifactRoots::ArtifactRoots(const std::vector<std::string>& roots) {
  for (const std::string& r : roots) {
    std::string given = r.size() > 1 && r.back() == '/' ? r.substr(0, r.size() - 1) : r;
    auto real = RealFolder(given);
    roots_.push_back(Root{given, real.ok() ? *real : given});
  }
}

std::string ArtifactRoots::Describe() const {
  std::string out;
  for (const Root& r : roots_) out += (out.empty() ? "" : ", ") + r.given;
  return out;
}

Result<UniqueFd> ArtifactRoots::Open(const std::string& path) const {
  const std::string what = "file: artifact " + path;
  if (roots_.empty()) {
    return Status::Permission(what + ": file: artifacts are off on this host; allow a folder "
                                     "with artifacts.fileRoots in the daemon config or "
                                     "--artifact-root DIR on the command line");
  }
  for (const Root& root : roots_) {
    std::string rel = Below(root.given, path);
    if (rel.empty()) rel = Below(root.real, path);
    if (rel.empty()) continue;
    UniqueFd root_fd(::open(root.real.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) return Status::FromErrno(what + ": artifact root " + root.given, errno);
    int fd = OpenBeneath(root_fd.get(), rel);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) fd = OpenNoSymlinks(root_fd.get(), rel);
    if (fd < 0) {
      int err = errno;
      if (err == EXDEV || err == ELOOP) {
        return Status::Permission(what + " leaves the artifact root " + root.given +
                                  " through a symlink (not followed)");
      }
      return Status::FromErrno(what, err);
    }
    UniqueFd file(fd);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) return Status::FromErrno(what, errno);
    if (!S_ISREG(st.st_mode)) return Status::Invalid(what + " is not a regular file");
    ::fcntl(file.get(), F_SETFL, ::fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);
    return file;
  }
  return Status::Permission(what + " is outside the artifact roots (" + Describe() +
                            "); add its folder to artifacts.fileRoots or --artifact-root");
}

}  // namespace gitdisc::specs
