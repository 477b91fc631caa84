// RunPayloadProcess: runs one payload command the way the agent promises
// (DESIGN.md §6): argv with a given working directory and exactly the given
// environment, stdin from /dev/null, stdout+stderr captured together with
// only the last tail_bytes kept, in its own process group, and a timeout that
// kills the whole group (SIGTERM, then SIGKILL after kill_grace).
//
// When the command's main process exits, whatever is left in its process
// group is killed too (a payload that wants to leave a daemon behind must put
// it in its own session, e.g. with setsid), so a stray child can never hold
// the agent's capture pipe open.
//
// Blocks the calling thread until the group is gone. Thread-compatible (each
// call uses its own pipe and child).
#ifndef GITDISC_GUEST_PAYLOAD_RUNNER_H_
#define GITDISC_GUEST_PAYLOAD_RUNNER_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"

namespace gitdisc::guest {

struct RunSpec {
  std::vector<std::string> argv;  // argv[0]: absolute, or searched in env's PATH if no '/'
  std::string cwd;
  std::vector<std::string> env;  // "KEY=value", the complete environment
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds kill_grace{5'000};
  size_t tail_bytes = 64 * 1024;
};

struct RunOutcome {
  enum class Kind { kExited, kSignaled, kTimedOut, kStartFailed };
  Kind kind = Kind::kStartFailed;
  int exit_code = -1;         // exit status; 128+N when killed by signal N; -1 if it never started
  std::string output_tail;    // last tail_bytes of stdout+stderr (raw bytes)
  uint64_t output_bytes = 0;  // everything the command wrote
};

// Fails (Status) only when the agent itself cannot run anything (pipe, fork);
// a command that cannot be executed is kStartFailed with the reason in the tail.
Result<RunOutcome> RunPayloadProcess(const RunSpec& spec);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PAYLOAD_RUNNER_H_
