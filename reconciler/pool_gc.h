// PoolCollector: deletes bundle images that no desired bundle uses from the
// `gitdisc` storage pools of remote hosts, after a grace period. Images are
// uploaded once per host (DESIGN.md §5); without this they would stay there
// forever.
//
// A round (Collect) lists every host's pool (Provider::ListPoolImages; local
// hosts have none). An image whose digest is not among the desired bundle
// digests is unused: the first round that sees it unused records when, in a
// small state file ("<host> <digest>" → unix seconds, written atomically),
// so the grace period survives restarts and is shared with `gitdisc cache
// gc`. An image desired again is forgotten. Once unused for `grace` it is
// deleted with Provider::DeletePoolImage, which refuses (DriveBusy) while a
// VM on that host has it in a drive — a disc of an older revision that a
// rollout has not ejected yet; such an image is kept and tried again in a
// later round. A host that cannot be listed is reported and skipped, its
// records kept.
//
// Thread-safety: Collect calls are serialised by an internal mutex; the
// counters may be read from any thread.
#ifndef GITDISC_RECONCILER_POOL_GC_H_
#define GITDISC_RECONCILER_POOL_GC_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "providers/provider.h"

namespace gitdisc::reconciler {

inline constexpr std::chrono::seconds kDefaultPoolGrace{3600};

struct PoolGcOptions {
  std::string state_file;  // STATE/pool-unused.json
  std::chrono::seconds grace = kDefaultPoolGrace;
  const Clock* clock = nullptr;  // nullptr: the system clock
};

struct PoolGcReport {
  struct Image {
    std::string host;
    PoolImage image;
    bool desired = false;
    int64_t unused_since_unix = 0;  // 0 when desired
    bool deleted = false;
    std::string kept_because;  // set when it was due but could not be deleted
  };
  std::vector<Image> images;        // every image found, by host then digest
  std::vector<std::string> errors;  // hosts that could not be listed
  uint64_t bytes_left = 0;          // over all hosts, after deletions
  int deleted = 0;
};

class PoolCollector {
 public:
  PoolCollector(Provider* provider, PoolGcOptions options);

  // One round over every host of the provider. With `dry_run`, nothing is
  // deleted and no record is written: the report says what would happen.
  // Fails only when the state file cannot be read or written.
  Result<PoolGcReport> Collect(const std::set<std::string>& desired_digests, bool dry_run = false);

  // Images deleted by this object (gitdisc_cache_evictions_total{cache="pool"}).
  uint64_t deletions() const { return deletions_.load(); }
  // Pool bytes after the last round (gitdisc_cache_bytes{cache="pool"}).
  uint64_t pool_bytes() const { return pool_bytes_.load(); }

 private:
  Provider* provider_;
  PoolGcOptions options_;
  SystemClock system_clock_;
  std::mutex mu_;
  std::atomic<uint64_t> deletions_{0}, pool_bytes_{0};
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_POOL_GC_H_
