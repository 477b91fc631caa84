// KeyReconciler: what a worker does with one VM key from the WorkQueue
// (reconciler/controller.h, STYLE.md "The reconciler"): hold the VM, re-read
// it (provider + agent, through the AgentGuard), plan the fleet with that
// fresh observation (FleetState), and when the plan gives this VM work, do
// it (insert → apply → follow → eject, reconciler/executor.h), record the
// outcome (counters, events, failures and their backoff), re-read the VM,
// and queue the VMs the rollout now lets through. It returns when to look at
// the key again.
//
// A guest that breaks a bound while its apply is followed is cut off by the
// agent client; the outcome is recorded like any failed step, and the guard
// backs the VM off, so the re-read after it does not touch the channel.
//
// Thread-safety: Reconcile may run on many workers at once, one key each
// (the WorkQueue hands a key to one worker at a time, and holds keep scans'
// observers off it). No lock is held while the provider or the agent is
// called.
#ifndef GITDISC_RECONCILER_KEY_RECONCILER_H_
#define GITDISC_RECONCILER_KEY_RECONCILER_H_

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/agent_guard.h"
#include "reconciler/controller_parts.h"
#include "reconciler/executor.h"
#include "reconciler/fleet_state.h"
#include "reconciler/revision_tracker.h"
#include "reconciler/status_writer.h"

namespace gitdisc::reconciler {

class KeyReconciler {
 public:
  struct Options {
    ObserveOptions observe;  // roots, agent client options
    std::chrono::milliseconds observe_timeout{10'000};
    ExecOptions exec;
    bool retry_failed = false;
    std::chrono::seconds backoff_base{10};
    std::chrono::seconds backoff_max{600};
    ProgressFn progress;  // one call per step per VM
    // The first disc of a new revision went in: (vm, revision, trigger, seconds).
    std::function<void(const std::string&, const std::string&, const std::string&, double)>
        first_insert;
    // A VM the last scan did not list was worked on: a scan should look.
    std::function<void()> wants_scan;
  };

  struct Result {
    gitdisc::Status status;
    std::optional<std::chrono::milliseconds> requeue_after;
    bool executed = false;  // steps were carried out
  };

  KeyReconciler(ControllerParts parts, Options options);

  // `queue_next`: queue the VMs a finished one lets through (the daemon).
  Result Reconcile(const std::string& key, bool queue_next);

 private:
  // Records an Execute's outcome: counters, events, failures and backoff.
  // Returns the backoff when the apply failed and should be retried.
  std::optional<std::chrono::milliseconds> RecordOutcome(const VmPlan& vp,
                                                         const gitdisc::Result<ExecResult>& res);
  std::chrono::milliseconds Backoff(const std::string& key, int failures) const;
  void NoteApplySent(const std::string& vm);
  // Observes `info` with a fresh per-VM deadline (through the guard).
  Observation ObserveNow(const VmInfo& info, std::unique_ptr<guest::AgentClient> agent = nullptr);

  ControllerParts p_;
  Options options_;
  std::mutex build_mu_;  // one image build at a time, shared by every worker (CacheImages)
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_KEY_RECONCILER_H_
