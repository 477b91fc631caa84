#include "bench/support/bench_main.h"

#include <cstdio>

namespace gitdisc::bench {

void Die(const std::string& what, const Status& status) {
  throw BenchFailure{what + ": " + status.ToString()};
}

int RunBench(const char* name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const BenchFailure& f) {
    std::fprintf(stderr, "%s: %s\n", name, f.message.c_str());
    return 2;
  }
}

}  // namespace gitdisc::bench
