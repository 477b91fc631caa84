// What every benchmark program prints: medians and percentiles of its runs,
// human-readable sizes, and one machine-readable ROW line per table row of
// docs/benchmarks.md, which scripts/bench.sh collects into the whole table:
//
//   ROW <n> | <what> | gitdisc: <figure> | alternative: <figure> | goal: <goal> | <met|missed>
//
// Thread-compatible: plain functions over values.
#ifndef GITDISC_BENCH_SUPPORT_BENCH_REPORT_H_
#define GITDISC_BENCH_SUPPORT_BENCH_REPORT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace gitdisc::bench {

using BenchClock = std::chrono::steady_clock;

double SecondsSince(BenchClock::time_point start);

double Median(std::vector<double> v);
// Nearest-rank percentile, p in (0, 100]; 0 for an empty vector.
double Percentile(std::vector<double> v, double p);

// "0 B", "12.3 KiB", "64.0 MiB".
std::string Bytes(uint64_t n);
// "840 µs", "12.3 ms", "1.25 s".
std::string Duration(double seconds);

struct Row {
  int number = 0;
  std::string what;
  std::string gitdisc;
  std::string alternative;
  std::string goal;
  bool met = false;
};

// Prints the ROW line on stdout (and flushes).
void PrintRow(const Row& row);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_BENCH_REPORT_H_
