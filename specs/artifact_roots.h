// ArtifactRoots: the host folders `file:` artifacts may come from
// (DESIGN.md §3, §11: a Git pusher must reach no host file outside them).
// Configured by the operator (`artifacts.fileRoots`, `--artifact-root DIR`);
// none by default, and then every `file:` artifact is refused with a message
// that says how to allow it.
//
// Open(path) opens a regular file for reading only when `path` (absolute,
// normalised, as the spec names it) lies under a root, and resolves it
// below that root without ever leaving it: with openat2(RESOLVE_BENEATH), a
// symlink that stays inside the root is followed and one that points out is
// refused; where openat2 is missing (kernels before 5.6, some sandboxes), no
// symlink below the root is followed at all. FIFOs, devices and folders are
// refused without blocking. Errors name the spec's path and the rule, never
// anything read from the file.
//
// Immutable after construction; thread-safe.
#ifndef GITDISC_SPECS_ARTIFACT_ROOTS_H_
#define GITDISC_SPECS_ARTIFACT_ROOTS_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"

namespace gitdisc::specs {

class ArtifactRoots {
 public:
  ArtifactRoots() = default;
  // Each root as given and as realpath resolves it (a path of a spec may use
  // either); a root that does not resolve is kept as given and opens nothing.
  explicit ArtifactRoots(const std::vector<std::string>& roots);

  bool empty() const { return roots_.empty(); }
  // The roots as configured, for messages.
  std::string Describe() const;

  // kPermission: no roots, or `path` outside them, or leaving a root
  // through a symlink; kNotFound: no such file; kInvalid: not a regular file.
  Result<UniqueFd> Open(const std::string& path) const;

 private:
  struct Root {
    std::string given;
    std::string real;
  };
  std::vector<Root> roots_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_ARTIFACT_ROOTS_H_
