// Running commands from benchmark programs: /bin/sh with a fixed Git identity
// and no user or system Git config (so runs do not depend on the machine's
// ~/.gitconfig), with or without capturing stdout.
#ifndef GITDISC_BENCH_SUPPORT_SHELL_H_
#define GITDISC_BENCH_SUPPORT_SHELL_H_

#include <string>

namespace gitdisc::bench {

// The environment prefix put before every command.
std::string GitEnv();

// Runs `cmd`; returns its exit status (-1 when it could not run).
int Sh(const std::string& cmd);
// Runs `cmd` and returns its stdout with trailing newlines removed; *status
// (when given) gets the exit status.
std::string ShOut(const std::string& cmd, int* status = nullptr);

// A single-quoted shell word.
std::string Quote(const std::string& s);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_SHELL_H_
