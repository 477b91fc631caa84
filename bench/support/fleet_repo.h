// Fleet repositories for benchmarks: PayloadSet YAML from a few fields, files
// written into a working tree, and commits made with the `git` command (the
// same way a user's repository comes to be).
#ifndef GITDISC_BENCH_SUPPORT_FLEET_REPO_H_
#define GITDISC_BENCH_SUPPORT_FLEET_REPO_H_

#include <string>
#include <vector>

#include "base/status.h"

namespace gitdisc::bench {

struct BenchPayload {
  std::string name;
  std::string version = "1";
  std::string path;  // folder in the repository
  std::string run = "./install.sh";
  std::string timeout = "5m";
};

struct BenchSet {
  std::string name;
  std::string match_labels;  // inside {…}: "role: web, env: prod"
  std::vector<BenchPayload> payloads;
  std::string max_parallel = "100%";
};

std::string PayloadSetYaml(const BenchSet& set);

// Writes root/rel (creating folders) with the given mode.
Status WriteTreeFile(const std::string& root, const std::string& rel, const std::string& data,
                     int mode = 0644);

// A mixed payload tree below root/rel: one file of `big_bytes` random bytes
// (big.bin) and `small_files` files of `small_bytes` (small/dNN/fNNNN), all
// from a PRNG seeded with `seed` (same seed, same bytes).
Status WriteRandomTree(const std::string& root, const std::string& rel, uint64_t big_bytes,
                       int small_files, uint64_t small_bytes, uint64_t seed);

// `git init -b main` in dir (created when missing).
Status GitInit(const std::string& dir);
// `git add -A && git commit`; returns the new commit's full SHA.
Result<std::string> GitCommitAll(const std::string& dir, const std::string& message);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_FLEET_REPO_H_
