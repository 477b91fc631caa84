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
//     (failed, halted, conflict, drive busy, shut off), or the deadline.
//   - Start/Stop (`gitdisc serve`): scans when woken (EnqueueAll,
//     NotifySourceChanged, provider events for unknown VMs or labels) or on
//     a timer; provider events for known VMs queue just their key. Failed VMs
//     are retried with jittered exponential backoff when retry_failed is set.
//
// Thread-safety: the ControllerApi methods are safe from any thread; RunPass
// and RunUntilConverged must not run concurrently with each other or with
// the background thread.
#ifndef GITDISC_RECONCILER_CONTROLLER_H_
#define GITDISC_RECONCILER_CONTROLLER_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/controller_api.h"
#include "reconciler/desired.h"
#include "reconciler/executor.h"
#include "reconciler/fleet_status.h"
#include "reconciler/observed.h"
#include "reconciler/planner.h"
#include "reconciler/work_queue.h"
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
                                    std::chrono::milliseconds(3000), "gitdisc"};
  bool retry_failed = false;
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
  ProgressFn progress;  // one call per step per VM
  ControllerHooks hooks;
};

struct PassResult {
  Plan plan;
  DesiredBuild desired;
  int executed = 0;  // VMs acted on (RunPass with execute: by the workers before it returned)
  int errors = 0;    // VMs whose steps failed unexpectedly
  bool converged = false;
  bool stuck = false;  // not converged and nothing can move without a change
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
  // What made the controller look at the source, and when (first_insert).
  struct Trigger {
    std::string reason;
    Clock::TimePoint at;
    std::string revision;  // once a pass found a new revision through it
  };

  // What the last scan found, kept between scans so that a worker can plan
  // its key against the whole fleet (rollouts count every VM of a set).
  struct FleetView {
    std::shared_ptr<const specs::Snapshot> snap;
    std::shared_ptr<const DesiredBuild> desired;
    std::vector<std::string> order;                // keys, in inventory order
    std::map<std::string, ObservedVm> observed;    // by key
    std::map<std::string, uint64_t> observed_seq;  // when it was observed (newer wins)
  };

  // The snapshot at `rev`, or at the newest valid revision (polling first
  // when a trigger asked for it; `trigger` receives that trigger).
  Result<std::shared_ptr<const specs::Snapshot>> SnapshotAt(const std::string& rev,
                                                            std::optional<Trigger>* trigger);
  // One scan. With execute, it becomes the view the workers plan against,
  // stale pins are released and the keys with work are queued (the count
  // goes to `executed`); without, it is only returned (diff, status, PlanAt).
  Result<PassResult> Scan(bool execute, const std::string& rev);
  ObserveOptions MakeObserveOptions() const;
  // Requires mu_. The fleet's plan from `view`, with clock-dependent facts
  // filled in and the VMs being worked on counted as applying.
  Plan PlanLocked(const FleetView& view);
  // Requires mu_. Records `vm` observed at `seq` unless a newer one is there.
  void InstallLocked(const ObservedVm& vm, uint64_t seq);
  // Requires mu_. Queues the keys `plan` gives work that no worker holds.
  int QueueActionableLocked(const Plan& plan, const std::string& except);
  void StartWorkers();
  void WorkerLoop();
  void OnProviderEvent(const std::string& key, EventKind kind);
  // A VM is observed or worked on by one holder at a time: its agent channel
  // is exclusive (opening it takes it over). Hold(wait=false) fails when
  // someone else holds it.
  bool Hold(const std::string& key, bool wait);
  void Unhold(const std::string& key);
  // Records an Execute's outcome: counters, events, failures and backoff.
  // Returns the backoff when the apply failed.
  std::optional<std::chrono::milliseconds> RecordOutcome(const VmPlan& vp,
                                                         const Result<ExecResult>& res);
  void Loop();
  void AddEvent(const std::string& type, const std::string& object, const std::string& reason,
                const std::string& message);
  // Requires mu_. The status from `plan` and the observations in `view`.
  void WriteStatusLocked(const Plan& plan, const FleetView& view);
  void NoteApplySent(const std::string& vm);
  // Unpins images that VMs seen this pass no longer hold (a controller
  // killed between an eject and its unpin, media changed by hand), so that
  // no pin outlives its disc.
  void ReleaseStalePins(const std::vector<ObservedVm>& observed);

  Provider* provider_;
  specs::Source* source_;
  iso::IsoCache* cache_;
  const Clock* clock_;
  ControllerOptions options_;
  EventLog events_;
  WorkQueue queue_;

  mutable std::mutex mu_;  // guards everything below
  FleetStatus status_;
  ControllerCounters counters_;
  SourceStatus source_status_;
  FleetView view_;
  uint64_t observe_seq_ = 0;
  std::set<std::string> held_;                    // keys held (see Hold)
  std::map<std::string, std::string> executing_;  // key → op id being carried out
  int executed_ = 0, exec_errors_ = 0;            // by workers, since construction
  // The daemon runs (Start): workers requeue keys that asked for it and
  // queue the VMs a finished one lets through; provider events arrive.
  bool background_ = false;
  bool watching_ = false;
  std::map<std::string, Clock::TimePoint> disc_seen_;    // key → first seen with our disc
  std::map<std::string, Clock::TimePoint> retry_after_;  // key → backoff end
  std::map<std::string, int> failures_;                  // key → consecutive failures
  std::map<std::string, VmCondition> last_condition_;
  bool ready_ = false;
  bool wake_ = false;
  bool source_dirty_ = true;
  // The first source trigger since the last pass, and, once a pass found a
  // new revision through it, when that revision's first disc is still to go
  // in (ControllerHooks::first_insert).
  std::optional<Trigger> trigger_;
  std::optional<Trigger> awaiting_first_insert_;
  std::string last_revision_;
  bool stop_ = false;
  std::condition_variable cv_;  // wake_/stop_ for the loop; held_ and worker progress
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex pass_mu_;   // one scan (RunPass, RunUntilConverged, loop) at a time
  std::mutex build_mu_;  // one image build at a time, shared by the workers
};

// The plan as JSON (schemaVersion 1): what `gitdisc diff -o json` prints.
nlohmann::json PlanToJson(const Plan& plan, const DesiredBuild& desired,
                          const std::function<bool(const std::string&)>& cached);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_CONTROLLER_H_
