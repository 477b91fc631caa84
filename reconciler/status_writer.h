// StatusWriter: the fleet status (reconciler/fleet_status.h) as the
// controller last saw it, and everything that feeds it besides the plan:
// counters, the source's state, recent events, the image cache's size.
// Readers (the daemon's API, metrics, status page; `gitdisc status`) get
// copies; writers are the scanner and the per-key reconciler.
//
// Write() turns a plan and the observations it was made from into the
// status, keeping each VM's last transition time and adding an event when a
// VM's condition changes (so a condition is reported once, not per pass).
//
// Thread-safety: safe from any thread. Locking: mu_ guards the status, the
// counters, the source state and the transitions; it is a leaf (nothing
// else is locked or called while it is held, except the EventLog's own
// leaf mutex), so callers may hold their own locks when calling in —
// FleetState calls Write() under its mutex to keep writes in plan order.
#ifndef GITDISC_RECONCILER_STATUS_WRITER_H_
#define GITDISC_RECONCILER_STATUS_WRITER_H_

#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "reconciler/fleet_status.h"
#include "reconciler/planner.h"

namespace gitdisc::reconciler {

class StatusWriter {
 public:
  StatusWriter(const Clock* clock, iso::IsoCache* cache);

  void AddEvent(const std::string& type, const std::string& object, const std::string& reason,
                const std::string& message);

  // The status from `plan`, the observations by key it was planned from,
  // and the VMs being acted on (key → operation id).
  void Write(const Plan& plan, const std::map<std::string, ObservedVm>& observed,
             const std::map<std::string, std::string>& executing);
  // Re-reads the image cache's size (disk I/O: call without locks held).
  void RefreshCacheBytes();

  // The source as last polled; a SpecInvalid event when its errors change,
  // a SignatureUnverified event when a new revision is refused for its
  // signature.
  void SetSource(SourceStatus source);

  // Counters (gitdisc_* metrics).
  void CountPass(double seconds);
  void CountBuild(const std::string& digest);
  void CountStepError();
  void CountSteps(int inserts, int ejects);
  void CountApply(bool ok);

  FleetStatus Status() const;
  // A status was written at least once (/readyz).
  bool Ready() const;

 private:
  const Clock* clock_;
  iso::IsoCache* cache_;
  EventLog events_;

  mutable std::mutex mu_;  // guards everything below
  FleetStatus status_;
  ControllerCounters counters_;
  SourceStatus source_;
  uint64_t cache_bytes_ = 0;
  std::map<std::string, VmCondition> last_condition_;
  bool ready_ = false;
};

// Seconds since the epoch on `clock`'s wall time.
int64_t UnixNow(const Clock* clock);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_STATUS_WRITER_H_
