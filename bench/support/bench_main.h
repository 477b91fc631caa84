// How benchmark programs stop on an error: Die() throws BenchFailure, and
// RunBench() — the whole of each main() — catches it, prints "<name>: <what>"
// and returns 2. Unwinding (rather than exit()) lets destructors run, so real
// guests (TestDomain) and daemons started by a benchmark are cleaned up.
#ifndef GITDISC_BENCH_SUPPORT_BENCH_MAIN_H_
#define GITDISC_BENCH_SUPPORT_BENCH_MAIN_H_

#include <functional>
#include <string>

#include "base/status.h"

namespace gitdisc::bench {

struct BenchFailure {
  std::string message;
};

[[noreturn]] void Die(const std::string& what, const Status& status);

// Runs body; a BenchFailure is printed on stderr as "<name>: <message>" and
// turned into exit status 2.
int RunBench(const char* name, const std::function<int()>& body);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_BENCH_MAIN_H_
