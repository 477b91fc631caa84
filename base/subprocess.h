// RunSubprocess: runs a helper program (ssh-keygen, gpgconf) the careful way:
// an argv (never a shell), exactly the given environment, stdin fed from the
// given bytes, stdout and stderr captured up to a bound each, in its own
// process group, and a deadline after which the whole group is killed
// (SIGKILL: helpers have nothing to clean up).
//
// The child is started with posix_spawn (no fork of a multi-threaded daemon's
// address space) and inherits no descriptor but its three standard ones.
// Stdin is a memfd holding the bytes, so a child that exits without reading
// never raises SIGPIPE in the caller and large inputs cannot deadlock.
//
// Blocks the calling thread until the child is gone. Thread-compatible: each
// call owns its own child and descriptors, so calls may run on several
// threads at once.
#ifndef GITDISC_BASE_SUBPROCESS_H_
#define GITDISC_BASE_SUBPROCESS_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace gitdisc {

struct SubprocessSpec {
  // argv[0] is a path, or a name searched in the caller's PATH.
  std::vector<std::string> argv;
  // The complete environment of the child ("KEY=value").
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  std::string stdin_data;
  std::chrono::milliseconds timeout{10'000};
  size_t max_output = 64 * 1024;  // kept of stdout, and again of stderr; the rest is dropped
};

struct SubprocessResult {
  int exit_code = -1;  // exit status; 128+N when killed by signal N
  bool timed_out = false;
  std::string out;  // first max_output bytes of stdout
  std::string err;  // first max_output bytes of stderr
  bool truncated = false;  // either stream had more than max_output bytes
  bool ok() const { return exit_code == 0 && !timed_out; }
};

// Fails only when the child cannot be started (kNotFound when argv[0] does
// not exist, kIo for other spawn failures); a child that exits non-zero or
// runs past its deadline is a SubprocessResult saying so.
Result<SubprocessResult> RunSubprocess(const SubprocessSpec& spec);

}  // namespace gitdisc

#endif  // GITDISC_BASE_SUBPROCESS_H_
