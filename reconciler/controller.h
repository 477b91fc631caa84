// Controller: the reconcile loop (DESIGN.md §1, §7) over a Provider, a Git
// Source and the ISO cache, built from two parts:
//
//   scan            poll the source (stay on the newest VALID revision) → list
//                   VMs → assemble desired state → observe every selected VM
//                   that no worker holds (provider + agent, in parallel) →
//                   plan (pure) → queue the key of every VM with work to do.
//   Reconcile(key)  what a worker does with one key from the WorkQueue: take
//                   the VM, re-read it (provider + agent), plan the fleet with
//                   that fresh observation, and when the plan gives this VM
//                   work, do it (insert → apply → follow → eject), re-read
//                   it, and queue the VMs the rollout now lets through. It
//                   returns when to look at the key again (backoff).
//
// A VM is held by one worker at a time and its agent channel is opened only
// by the holder, so a slow apply never delays other VMs: they are scanned,
// planned and worked on meanwhile, and the planner counts the held VM as
// in flight for maxParallel. Everything is level-based: nothing the next
// scan needs lives only in memory (disc in a drive, agent ledger and running
// op are re-observed), so a killed controller's successor carries on.
//
// Three drivers:
//   - RunPass (`gitdisc diff`, `status`): one scan; with execute, the queued
//     keys are worked on and RunPass returns when the queue is empty.
//   - RunUntilConverged (`gitdisc reconcile`): scans while workers run, until
//     every selected VM is Ready (converged), nothing can move any more
//     (failed, halted, conflict, drive busy, shut off), or the deadline. With
//     retry_earlier_failures, a VM whose payload failed before this run is
//     retried once; one that fails in this run stays Failed, unless
//     retry_failed: then it is retried after its backoff and waited for
//     until the deadline.
//   - Start/Stop (`gitdisc serve`): scans when woken (EnqueueAll,
//     NotifySourceChanged, provider events for unknown VMs or labels) or on
//     a timer; provider events for known VMs queue just their key. Failed VMs
//     are retried with jittered exponential backoff when retry_failed is set.
//
// Parts, one job each (every header states its locking):
//   RevisionTracker  which revision, and the triggers that found it
//   Scanner          one scan; observes on the WorkerPool, bounded in time
//   KeyReconciler    Reconcile(key), what a worker does
//   FleetState       what scans and workers share (view, holds, acting VMs)
//   AgentGuard       guests that broke a bound: backoff, AgentMisbehaving
//   StatusWriter     the fleet status, counters, events
//   CacheImages      images from the ISO cache (shared build lock)
// The Controller owns them and runs the drivers. Its own mu_ guards only the
// loop's flags (wake, stop, background); pass_mu_ lets one EXECUTING scan
// run at a time (RunPass(execute), RunUntilConverged, the loop). Dry scans
// (diff, status, PlanAt) take neither: they run beside the loop, bounded in
// time (Scanner), so /api/v1/plan never waits on a guest or on a rollout.
//
// Thread-safety: the ControllerApi methods are safe from any thread; RunPass
// and RunUntilConverged must not run concurrently with each other or with
// the background thread.
#ifndef GITDISC_RECONCILER_CONTROLLER_H_
#define GITDISC_RECONCILER_CONTROLLER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/agent_guard.h"
#include "reconciler/controller_api.h"
#include "reconciler/desired.h"
#include "reconciler/executor.h"
#include "reconciler/fleet_state.h"
#include "reconciler/fleet_status.h"
#include "reconciler/key_reconciler.h"
#include "reconciler/observed.h"
#include "reconciler/plan_json.h"
#include "reconciler/planner.h"
#include "reconciler/revision_tracker.h"
#include "reconciler/scanner.h"
#include "reconciler/status_writer.h"
#include "reconciler/work_queue.h"
#include "reconciler/worker_pool.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

// What the daemon's metrics and log want to know; every hook is optional and
// is called from the controller's threads (keep them quick, thread-safe).
struct ControllerHooks {
  // After every executing pass that ran to the end (gitdisc_reconcile_duration_seconds).
  std::function<void(double seconds)> pass_finished;
  // The first disc of a new revision went in (and its apply was sent):
  // `seconds` since the trigger that found the revision — "webhook github",
  // "poll", "api"... (DESIGN.md §9: webhook to first insert).
  std::function<void(const std::string& vm, const std::string& revision, const std::string& trigger,
                     double seconds)>
      first_insert;
};

struct ControllerOptions {
  // Extra folders whose <digest>.iso images are ours (remote pool folders);
  // the cache folder is always one.
  std::vector<std::string> extra_roots = {"/var/lib/libvirt/gitdisc", "[*] gitdisc"};
  guest::AgentClient::Options agent{std::chrono::milliseconds(2000), 3,
                                    std::chrono::milliseconds(3000), "gitdisc", {}};
  // Retry failed applies with jittered exponential backoff (the daemon,
  // `reconcile --retry-failed`). Off: a failure in this process is final
  // until a new revision.
  bool retry_failed = false;
  // Without retry_failed: plan one retry of a failure recorded before this
  // process (`reconcile`, and `diff` to preview it). Off, such a VM is
  // reported Failed (`status`).
  bool retry_earlier_failures = false;
  ExecOptions exec;
  // Disc of ours with an unreachable agent: forced eject after the bundle's
  // timeouts plus this.
  std::chrono::seconds overdue_margin{120};
  std::chrono::milliseconds idle_poll{2000};  // wait between passes with nothing to do
  std::chrono::seconds resync_interval{300};  // daemon: full pass at least this often
  std::chrono::seconds backoff_base{10};
  std::chrono::seconds backoff_max{600};
  // Workers taking keys from the queue: at most this many VMs are worked on
  // at once (each mostly waits on its guest).
  int workers = 32;
  // Observation (docs/security.md "A hostile guest"): at most this many VMs
  // are observed at once by scans, each within observe_timeout; an
  // executing scan waits at most scan_wait for them (the rest are installed
  // when they finish), a dry scan at most observe_timeout.
  int observers = 16;
  std::chrono::milliseconds observe_timeout{10'000};
  std::chrono::milliseconds scan_wait{3'000};
  // A guest that broke a bound is not contacted for this long, doubling
  // each time in a row (AgentGuard).
  std::chrono::seconds agent_backoff_base{30};
  std::chrono::seconds agent_backoff_max{1800};
  ProgressFn progress;  // one call per step per VM
  ControllerHooks hooks;
};

class Controller final : public ControllerApi {
 public:
  Controller(Provider* provider, specs::Source* source, iso::IsoCache* cache, const Clock* clock,
             ControllerOptions options);
  ~Controller() override;

  // One pass at the newest valid revision (or `rev` when not empty). With
  // execute false it only plans (`gitdisc diff`).
  Result<PassResult> RunPass(bool execute, const std::string& rev = "");

  // Passes until converged (converged true) or stuck or past the deadline
  // (converged false), at the newest valid revision, or at `rev` when not
  // empty (`gitdisc reconcile --rev`: resolved once per pass like RunPass).
  Result<PassResult> RunUntilConverged(std::chrono::steady_clock::time_point deadline,
                                       const std::string& rev = "");

  // What a worker does with one key (see above). `requeue_after` asks for
  // another look after that long (a failed apply's backoff, an agent that
  // did not answer yet).
  struct ReconcileResult {
    gitdisc::Status status;
    std::optional<std::chrono::milliseconds> requeue_after;
    bool executed = false;  // steps were carried out
  };
  ReconcileResult Reconcile(const std::string& key);

  // Background loop for the daemon.
  void Start();
  void Stop();

  // ControllerApi
  FleetStatus Status() const override;
  void EnqueueAll(std::string_view reason) override;
  void NotifySourceChanged(std::string_view reason) override;
  Result<nlohmann::json> PlanAt(const std::string& revision) override;
  bool Ready() const override;

  std::vector<std::string> Roots() const;

 private:
  void StartWorkers();
  void WorkerLoop();
  void OnProviderEvent(const std::string& key, EventKind kind);
  void Loop();
  void Wake();
  bool Background() const;
  Result<PassResult> ScanExecuting(const std::string& rev);

  Provider* provider_;
  iso::IsoCache* cache_;
  const Clock* clock_;
  ControllerOptions options_;
  const std::vector<std::string> roots_;
  StatusWriter status_;
  WorkQueue queue_;
  RevisionTracker revisions_;
  AgentGuard guard_;
  FleetState state_;
  KeyReconciler reconciler_;
  // Its tasks use the parts above and scanner_: ~Controller shuts it down first.
  WorkerPool observers_;
  Scanner scanner_;

  mutable std::mutex mu_;  // guards the loop's flags and threads below
  std::condition_variable cv_;  // wake_/stop_ for the loop
  // The daemon runs (Start): workers requeue keys that asked for it and
  // queue the VMs a finished one lets through; provider events arrive.
  bool background_ = false;
  bool watching_ = false;
  bool wake_ = false;
  bool stop_ = false;
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex pass_mu_;  // one executing scan (RunPass, RunUntilConverged, loop) at a time
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_CONTROLLER_H_
