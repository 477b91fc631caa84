// Benchmark: build a bundle ISO of a 256 MiB tree (one 200 MiB file + 2,000
// small files) with gitdisc (library call: folder walk, SHA-256 of every
// byte, manifest, fsync) and with `xorriso -as mkisofs -R -J -o X tree`,
// interleaved, and print the medians and the median ratio (goal <= 1.0).
//
// Usage: iso_build_bench [RUNS=7] [WORKDIR=/tmp]
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "bench/support/bench_report.h"
#include "iso/folder_bundle.h"
#include "iso/iso_writer.h"

namespace {

using Clock = std::chrono::steady_clock;

void WriteBytes(const std::string& path, size_t n, std::mt19937_64* rng) {
  std::ofstream out(path, std::ios::binary);
  std::vector<uint64_t> buf(1 << 17);
  while (n > 0) {
    for (auto& w : buf) w = (*rng)();
    size_t k = std::min(n, buf.size() * sizeof(uint64_t));
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(k));
    n -= k;
  }
}

using gitdisc::bench::Median;

double TimeGitdisc(const std::string& tree, const std::string& out) {
  auto t0 = Clock::now();
  auto payload = gitdisc::iso::PayloadFromFolder(tree);
  if (!payload.ok()) {
    std::fprintf(stderr, "%s\n", payload.status().ToString().c_str());
    std::exit(2);
  }
  gitdisc::iso::Bundle b;
  b.payloads.push_back(std::move(payload).value());
  auto r = gitdisc::iso::WriteBundleIso(b, out);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::exit(2);
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  ::unlink(out.c_str());
  return s;
}

double TimeXorriso(const std::string& tree, const std::string& out) {
  auto t0 = Clock::now();
  std::string cmd = "xorriso -as mkisofs -quiet -R -J -o '" + out + "' '" + tree + "' 2>/dev/null";
  int rc = std::system(cmd.c_str());
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (rc != 0) {
    std::fprintf(stderr, "xorriso failed (%d)\n", rc);
    std::exit(2);
  }
  ::unlink(out.c_str());
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 7;
  std::string work = argc > 2 ? argv[2] : "/tmp";
  if (runs < 5) runs = 5;
  std::string root = work + "/gitdisc-iso-bench-" + std::to_string(::getpid());
  std::string tree = root + "/payload";
  if (!gitdisc::MakeDirs(tree + "/small").ok()) return 2;
  std::mt19937_64 rng(42);
  WriteBytes(tree + "/big.bin", 200u << 20, &rng);
  size_t small_total = (56u << 20);
  for (int i = 0; i < 2000; ++i) {
    std::string dir = tree + "/small/d" + std::to_string(i / 100);
    (void)gitdisc::MakeDirs(dir);
    WriteBytes(dir + "/f" + std::to_string(i), small_total / 2000, &rng);
  }
  std::string out = root + "/out.iso";
  // Warm the page cache and both code paths once.
  TimeGitdisc(tree, out);
  TimeXorriso(tree, out);
  std::vector<double> ours, theirs, ratios;
  for (int i = 0; i < runs; ++i) {
    double g = TimeGitdisc(tree, out);
    double x = TimeXorriso(tree, out);
    ours.push_back(g);
    theirs.push_back(x);
    ratios.push_back(g / x);
    std::printf("run %d: gitdisc %.3f s, xorriso %.3f s, ratio %.2f\n", i + 1, g, x, g / x);
    std::fflush(stdout);
  }
  std::printf("tree: 1 x 200 MiB + 2000 x %zu KiB = 256 MiB, runs: %d interleaved\n",
              small_total / 2000 / 1024, runs);
  std::printf("median gitdisc build (SHA-256 of every byte): %.3f s\n", Median(ours));
  std::printf("median xorriso -as mkisofs -R -J:             %.3f s\n", Median(theirs));
  std::printf("median ratio gitdisc/xorriso: %.2fx (goal <= 1.0x)\n", Median(ratios));
  char ours_s[120], theirs_s[120];
  std::snprintf(ours_s, sizeof ours_s, "%.3f s (median of %d, SHA-256 of every byte); ratio %.2fx",
                Median(ours), runs, Median(ratios));
  std::snprintf(theirs_s, sizeof theirs_s, "xorriso -as mkisofs -R -J: %.3f s", Median(theirs));
  gitdisc::bench::PrintRow({.number = 1,
                            .what = "bundle ISO build, 256 MiB mixed tree",
                            .gitdisc = ours_s,
                            .alternative = theirs_s,
                            .goal = "<= 1.0x xorriso",
                            .met = Median(ratios) <= 1.0});
  (void)gitdisc::RemoveAll(root);
  return 0;
}
