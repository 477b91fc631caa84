// The `gitdisc` command line: global options and the subcommand table
// (DESIGN.md §4). Each subcommand lives in its own cmd_<name>.cc and is listed
// in commands.cc; RunCli parses argv and runs one of them.
//
// Exit codes: every command documents its own 0/1 meaning; 2 always means
// "could not run" (bad usage, unreachable repo, internal error).
#ifndef GITDISC_CLI_CLI_H_
#define GITDISC_CLI_CLI_H_

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gitdisc::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // invalid / changes / not converged
inline constexpr int kExitError = 2;   // could not run

// Options every subcommand understands (DESIGN.md §4 "Common flags").
struct GlobalOptions {
  std::string repo = ".";
  std::string branch;  // empty: the remote's HEAD
  std::string rev;     // empty: the branch tip
  std::string path;    // spec folder inside the repo; empty: the root
  std::vector<std::string> connect;
  std::string output = "text";  // "text" for people, "json" for programs
  std::string state_dir;  // empty: DefaultStateDir()
  bool verbose = false;
  // Signed commits only (docs/git-source.md "Signed commits"): trusted SSH
  // keys (git's allowed_signers format) and/or OpenPGP keys, and which
  // commits must verify ("tip" or "all").
  std::string allowed_signers;
  std::string gpg_keyring;
  std::string verify_mode = "tip";
  // Not a flag: `serve` sets it from source.pullRequests.
  bool pull_requests = false;
  // --artifact-root DIR (repeatable): where file: artifacts may come from
  // (none: refused); --allow-http-artifacts: url: artifacts over http://.
  std::vector<std::string> artifact_roots;
  bool allow_http_artifacts = false;

  // STATE: --state-dir, else /var/lib/gitdisc for root, else
  // $XDG_STATE_HOME/gitdisc (or ~/.local/state/gitdisc).
  std::string StateDir() const;
  bool json() const { return output == "json"; }
};

// Where a command writes. Commands never touch std::cout directly so tests can
// run them in-process and read what they printed.
struct Io {
  std::ostream& out;
  std::ostream& err;
  bool out_is_tty = false;
};

// A subcommand: Setup adds its options to `sub` and returns the action to run
// after parsing succeeded. The action returns the exit status.
struct Command {
  const char* name;
  const char* summary;
  std::function<std::function<int()>(CLI::App* sub, const GlobalOptions* global, Io* io)> setup;
};

// The subcommand table, in the order `gitdisc --help` lists them.
const std::vector<Command>& Commands();

// Parses argv and runs the chosen subcommand; returns the process exit status.
int RunCli(int argc, const char* const* argv, Io io);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_CLI_H_
