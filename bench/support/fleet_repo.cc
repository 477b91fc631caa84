#include "bench/support/fleet_repo.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <vector>

#include "base/file_util.h"
#include "bench/support/shell.h"

namespace gitdisc::bench {

std::string PayloadSetYaml(const BenchSet& s) {
  std::string y = "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata:\n  name: " + s.name +
                  "\nspec:\n  selector:\n    matchLabels: {" + s.match_labels + "}\n  payloads:\n";
  for (const BenchPayload& p : s.payloads) {
    y += "    - name: " + p.name + "\n      version: \"" + p.version + "\"\n      path: " + p.path +
         "\n      run: [\"" + p.run + "\"]\n      timeout: " + p.timeout + "\n";
  }
  y += "  rollout:\n    maxParallel: \"" + s.max_parallel + "\"\n";
  return y;
}

Status WriteTreeFile(const std::string& root, const std::string& rel, const std::string& data,
                     int mode) {
  std::string path = JoinPath(root, rel);
  GITDISC_RETURN_IF_ERROR(MakeDirs(path.substr(0, path.rfind('/'))));
  return WriteFileAtomic(path, data, mode);
}

namespace {

Status WriteRandomFile(const std::string& path, uint64_t n, std::mt19937_64* rng) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::vector<uint64_t> buf(1 << 16);
  while (n > 0 && out) {
    for (auto& w : buf) w = (*rng)();
    uint64_t k = std::min<uint64_t>(n, buf.size() * sizeof(uint64_t));
    out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(k));
    n -= k;
  }
  out.close();
  return out ? Status::Ok() : Status::Io("cannot write " + path);
}

}  // namespace

Status WriteRandomTree(const std::string& root, const std::string& rel, uint64_t big_bytes,
                       int small_files, uint64_t small_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string base = JoinPath(root, rel);
  GITDISC_RETURN_IF_ERROR(MakeDirs(base));
  GITDISC_RETURN_IF_ERROR(WriteRandomFile(base + "/big.bin", big_bytes, &rng));
  for (int i = 0; i < small_files; ++i) {
    std::string dir = base + "/small/d" + std::to_string(i / 100);
    GITDISC_RETURN_IF_ERROR(MakeDirs(dir));
    GITDISC_RETURN_IF_ERROR(WriteRandomFile(dir + "/f" + std::to_string(i), small_bytes, &rng));
  }
  return Status::Ok();
}

Status GitInit(const std::string& dir) {
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir));
  if (Sh("git init -q -b main " + Quote(dir)) != 0) {
    return Status::Internal("git init failed in " + dir);
  }
  return Status::Ok();
}

Result<std::string> GitCommitAll(const std::string& dir, const std::string& message) {
  if (Sh("cd " + Quote(dir) + " && git add -A && git commit -q --allow-empty -m " +
         Quote(message)) != 0) {
    return Status::Internal("git commit failed in " + dir);
  }
  int rc = 0;
  std::string sha = ShOut("git -C " + Quote(dir) + " rev-parse HEAD", &rc);
  if (rc != 0 || sha.size() != 40) return Status::Internal("git rev-parse failed in " + dir);
  return sha;
}

}  // namespace gitdisc::bench
