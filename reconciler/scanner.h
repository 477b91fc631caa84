// Scanner: one scan of the fleet (reconciler/controller.h) — the snapshot at
// a revision (RevisionTracker) → the inventory → the desired state → an
// observation of every selected VM that nobody holds → the plan (FleetState).
// An executing scan also releases stale image pins and queues the VMs with
// work; a dry one (diff, status, /api/v1/plan) changes nothing but, at the
// current revision, the status.
//
// Bounded in time whatever the guests do (docs/security.md "A hostile
// guest"): observations run on the controller's WorkerPool (a bounded number
// of threads, not one per VM), each ends by its per-VM deadline
// (observe_timeout; the agent client enforces it against any stream of
// data), a VM backed off for misbehaving is not contacted at all
// (AgentGuard), and the scan waits for observations at most scan_wait
// (executing; it queues the work it knows of as soon as the observations
// that will come are in, see quiet_after) or observe_timeout (dry) — an
// observation still running then
// finishes on its own: an executing scan's is installed when it ends (and
// wakes the controller when the VM's agent became reachable), a dry scan's is
// dropped. An observation that could not start within observe_timeout (a
// large fleet on few observers) is skipped and the VM keeps its last
// observation; the next scan starts with the VMs observed longest ago.
// Nothing waits on a guest while holding a lock.
//
// Thread-safety: Scan may run on several threads at once (an executing scan
// of the daemon's loop, dry scans of the API); they share FleetState and
// never observe the same VM at once (holds).
#ifndef GITDISC_RECONCILER_SCANNER_H_
#define GITDISC_RECONCILER_SCANNER_H_

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/agent_guard.h"
#include "reconciler/controller_parts.h"
#include "reconciler/desired.h"
#include "reconciler/fleet_state.h"
#include "reconciler/observed.h"
#include "reconciler/planner.h"
#include "reconciler/revision_tracker.h"
#include "reconciler/status_writer.h"
#include "reconciler/worker_pool.h"

namespace gitdisc::reconciler {

struct PassResult {
  Plan plan;
  DesiredBuild desired;
  int executed = 0;  // VMs acted on (RunPass with execute: by the workers before it returned)
  int errors = 0;    // VMs whose steps failed unexpectedly
  bool converged = false;
  bool stuck = false;  // not converged and nothing can move without a change
};

class Scanner {
 public:
  struct Options {
    ObserveOptions observe;                       // roots, agent client options
    std::chrono::milliseconds observe_timeout{10'000};  // per VM
    std::chrono::milliseconds scan_wait{3'000};         // executing scans
    // An executing scan whose observations stop finishing for this long
    // (the rest are slow or mute guests) queues the work it knows of.
    std::chrono::milliseconds quiet_after{100};
    // An observation an executing scan stopped waiting for found the VM's
    // agent reachable: the controller should scan again.
    std::function<void()> late_reachable;
    // After every executing scan that ran to the end, with its duration.
    std::function<void(double seconds)> pass_finished;
  };
  // Observations run on `observers`.
  Scanner(ControllerParts parts, WorkerPool* observers, Options options);

  // One scan at the newest valid revision (or `rev` when not empty). With
  // execute, its plan becomes the view workers plan against, and the keys
  // with work are queued (their count in `executed`).
  Result<PassResult> Scan(bool execute, const std::string& rev);

 private:
  struct Batch;
  // Observes the selected VMs of scan.inventory on the pool; fills
  // scan.fresh. When observations are still running but none has finished
  // for `quiet_after`, calls on_quiet (if set) once with what is known.
  using PartialFn = std::function<void(const std::vector<std::optional<ObservedVm>>&)>;
  void ObserveAll(const DesiredBuild& desired, bool execute, FleetState::Scanned& scan,
                  const PartialFn& on_quiet);
  // An executing scan's early queueing: plans with the observations that
  // are in (the others keep their last one) and queues the VMs with work,
  // so that honest VMs are not held back by guests that do not answer.
  std::set<std::string> QueueEarly(FleetState::Scanned scan,
                                   const std::vector<std::optional<ObservedVm>>& partial);
  // Unpins images that VMs seen this scan no longer hold (a controller
  // killed between an eject and its unpin, media changed by hand), so that
  // no pin outlives its disc.
  void ReleaseStalePins(const std::vector<ObservedVm>& observed);

  ControllerParts p_;
  WorkerPool* observers_;
  Options options_;
};

// Converged / stuck, judged on a plan (PassResult's fields).
void JudgePass(PassResult& pass);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_SCANNER_H_
