// The running process's own counters, read from the kernel: bytes it wrote
// (/proc/self/io) and its peak resident memory (getrusage). Linux only.
#ifndef GITDISC_BENCH_SUPPORT_PROC_STATS_H_
#define GITDISC_BENCH_SUPPORT_PROC_STATS_H_

#include <cstdint>

namespace gitdisc::bench {

struct IoCounters {
  uint64_t wchar = 0;        // bytes passed to write(2)-like calls (any fd)
  uint64_t write_bytes = 0;  // bytes this process caused to be sent to storage
};

// /proc/self/io; zeros when it cannot be read.
IoCounters ReadIoCounters();

// CPU time of the calling thread, in seconds (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

// getrusage(RUSAGE_SELF).ru_maxrss in bytes: the peak so far.
uint64_t PeakRssBytes();
// VmRSS of /proc/self/status in bytes: resident now.
uint64_t CurrentRssBytes();

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_PROC_STATS_H_
