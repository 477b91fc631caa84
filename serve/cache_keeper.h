// CacheKeeper: the daemon's housekeeping of bundle images, one round per
// call of RunOnce (the Daemon calls it every housekeeping interval):
//   1. the image cache is brought within its bound (IsoCache::Evict: least
//      recently used first, never an image a VM has inserted — a pinned one),
//      also when no new image was built for a while;
//   2. one round of the PoolCollector with the bundles the fleet desires now
//      (every selected VM's bundle in the controller's status): remote pool
//      images unused for the grace period are deleted;
//   3. gitdisc_cache_bytes{cache} and gitdisc_cache_evictions_total{cache}
//      are published; evictions, deletions and failures are logged.
// Nothing is collected before the controller is Ready (its first scan
// done): an empty status would make every pool image look unused.
//
// Thread-safety: RunOnce is called from one thread at a time (the daemon's
// housekeeping thread); the objects it uses are thread-safe.
#ifndef GITDISC_SERVE_CACHE_KEEPER_H_
#define GITDISC_SERVE_CACHE_KEEPER_H_

#include "iso/iso_cache.h"
#include "reconciler/controller_api.h"
#include "reconciler/pool_gc.h"
#include "serve/daemon_log.h"
#include "serve/metrics.h"

namespace gitdisc::serve {

class CacheKeeper {
 public:
  // All pointers must outlive the keeper.
  CacheKeeper(iso::IsoCache* cache, reconciler::PoolCollector* pools,
              reconciler::ControllerApi* controller, GitdiscMetrics* metrics, DaemonLog* log);

  // One round; returns false when it was skipped (controller not ready).
  bool RunOnce();

 private:
  iso::IsoCache* cache_;
  reconciler::PoolCollector* pools_;
  reconciler::ControllerApi* controller_;
  GitdiscMetrics* metrics_;
  DaemonLog* log_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_CACHE_KEEPER_H_
