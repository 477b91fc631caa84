#include "serve/cache_keeper.h"

#include <set>

namespace gitdisc::serve {

CacheKeeper::CacheKeeper(iso::IsoCache* cache, reconciler::PoolCollector* pools,
                         reconciler::ControllerApi* controller, GitdiscMetrics* metrics,
                         DaemonLog* log)
    : cache_(cache), pools_(pools), controller_(controller), metrics_(metrics), log_(log) {}

bool CacheKeeper::RunOnce() {
  if (!controller_->Ready()) return false;
  auto evicted = cache_->Evict();
  if (!evicted.ok()) {
    log_->Warn("image cache eviction failed", {{"error", evicted.status().message()}});
  } else {
    for (const std::string& d : *evicted) log_->Info("image evicted", {{"digest", d}});
  }
  std::set<std::string> desired;
  for (const reconciler::VmStatus& v : controller_->Status().vms) {
    if (!v.bundle_digest.empty()) desired.insert(v.bundle_digest);
  }
  auto report = pools_->Collect(desired);
  if (!report.ok()) {
    log_->Warn("pool collection failed", {{"error", report.status().message()}});
  } else {
    for (const std::string& e : report->errors) log_->Warn("pool not listed", {{"error", e}});
    for (const auto& img : report->images) {
      if (img.deleted) {
        log_->Info("pool image deleted", {{"host", img.host}, {"digest", img.image.digest}});
      } else if (!img.kept_because.empty()) {
        log_->Debug(
            "pool image kept",
            {{"host", img.host}, {"digest", img.image.digest}, {"reason", img.kept_because}});
      }
    }
  }
  if (auto bytes = cache_->TotalBytes(); bytes.ok()) {
    metrics_->cache_bytes.Set({"images"}, static_cast<double>(*bytes));
  }
  metrics_->cache_bytes.Set({"pool"}, static_cast<double>(pools_->pool_bytes()));
  metrics_->cache_evictions.SetTotal({"images"}, static_cast<double>(cache_->evictions()));
  metrics_->cache_evictions.SetTotal({"pool"}, static_cast<double>(pools_->deletions()));
  return true;
}

}  // namespace gitdisc::serve
