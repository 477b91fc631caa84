// GitLibrary: the process-wide libgit2 initialisation as one RAII object.
//
// main (or a test) constructs exactly one GitLibrary before anything opens a
// repository and keeps it alive until the last GitRepository / GitTree is gone.
// Functions that use libgit2 take a `const GitLibrary&` so the dependency is
// visible in their signatures. libgit2 reference-counts init/shutdown, so two
// instances (e.g. in tests) are harmless, but there is no global instance.
// Thread-safe: libgit2 is built thread-aware on Debian.
#ifndef GITDISC_SPECS_GIT_LIBRARY_H_
#define GITDISC_SPECS_GIT_LIBRARY_H_

#include <string>

namespace gitdisc::specs {

class GitLibrary {
 public:
  GitLibrary();
  ~GitLibrary();
  GitLibrary(const GitLibrary&) = delete;
  GitLibrary& operator=(const GitLibrary&) = delete;

  // "libgit2 1.5.1", for --version output and bug reports.
  static std::string Version();
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GIT_LIBRARY_H_
