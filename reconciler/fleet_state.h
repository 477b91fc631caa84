// FleetState: what the controller's scans and workers share about the
// fleet (reconciler/controller.h) — the view the last executing scan left
// (snapshot, desired state, inventory order, the newest observation of each
// VM), which VMs are held (observed or worked on: an agent channel has one
// user at a time), which are being acted on, the clock-dependent facts the
// planner is given (our disc seen since, retry backoff), and how many VMs
// the workers acted on. Planning against it is the old "plan the fleet with
// the VMs being worked on counted as applying".
//
// Thread-safety: safe from any thread. Locking: mu_ guards everything here.
// It is never held while calling out (provider, agent, Git, ISO cache,
// hooks); the only calls made under it are StatusWriter::Write (a leaf lock,
// so status writes keep the order of the plans they show) and WorkQueue::Add
// (its own leaf lock). Hold() waits on cv_ for the holder to let go; holders
// are bounded in time (an observation by its deadline, a worker by its
// steps' timeouts).
#ifndef GITDISC_RECONCILER_FLEET_STATE_H_
#define GITDISC_RECONCILER_FLEET_STATE_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "providers/provider.h"
#include "reconciler/desired.h"
#include "reconciler/observed.h"
#include "reconciler/planner.h"
#include "reconciler/status_writer.h"
#include "reconciler/work_queue.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

// The plan gives this VM steps to carry out (a worker should take it).
bool Actionable(const VmPlan& p);

// How long the apply of `key`'s bundle may take: its payloads' timeouts
// (10 min when none) plus `margin`.
std::chrono::seconds ApplyTimeout(const DesiredBuild& d, const std::string& key,
                                  std::chrono::seconds margin);

class FleetState {
 public:
  struct Options {
    // Plan retries of failed VMs outside a backoff (ControllerOptions:
    // retry_failed or retry_earlier_failures).
    bool retry_failed = false;
    std::chrono::seconds overdue_margin{120};
  };
  FleetState(const Clock* clock, Options options, StatusWriter* status, WorkQueue* queue);

  // ---- holding a VM (see above)
  bool TryHold(const std::string& key);
  void Hold(const std::string& key);  // waits for the holder
  void Unhold(const std::string& key);
  // Observations are numbered when they start; a newer one wins.
  uint64_t NextSeq();

  // ---- scans
  struct Scanned {
    std::shared_ptr<const specs::Snapshot> snap;
    std::shared_ptr<const DesiredBuild> desired;
    std::vector<VmInfo> inventory;                 // in provider order
    std::vector<std::optional<ObservedVm>> fresh;  // per inventory entry; nullopt: not now
    std::vector<uint64_t> seqs;                    // per inventory entry
    std::vector<std::string> our_roots;
  };
  struct ScanPlan {
    Plan plan;
    std::vector<ObservedVm> idle;  // observed by this scan and not being acted on
  };
  // With execute, the scan becomes the view (VMs that left the inventory go,
  // unless acted on); call QueueWork next. Without, the scan is planned on
  // a copy of the view and the status written when write_status.
  ScanPlan ApplyScan(const Scanned& scan, bool execute, bool write_status);
  // After an executing scan (and the release of stale pins): queues the
  // keys `plan` gives work that nobody acts on and that are not in `except`
  // (queued already), writes the status, and returns the keys queued.
  std::set<std::string> QueueWork(const Plan& plan, const std::set<std::string>& except = {});
  // An observation that finished after its scan stopped waiting for it:
  // installed when newer (also before the scan's ApplyScan, which then keeps
  // it). True when the VM's agent became reachable by it.
  bool InstallLate(const ObservedVm& vm, uint64_t seq);

  // ---- workers (Reconcile(key))
  bool HasView() const;
  // The view has an observation of `key` (a VM the last scans listed).
  bool Knows(const std::string& key) const;
  // When each VM in the view was last observed (its observation's number).
  std::map<std::string, uint64_t> ObservedSeqs() const;
  // The VM is gone from the provider.
  void Forget(const std::string& key);
  struct KeyStart {
    VmPlan plan;
    bool found = false;      // the plan names the VM
    bool act = false;        // ... and gives it work: the VM is now acting
    bool new_vm = false;     // the last scan did not list it (a scan should look)
    std::shared_ptr<const specs::Snapshot> snap;
    std::shared_ptr<const DesiredBuild> desired;
  };
  // Installs `vm` (observed at `seq`), plans the fleet, and when `key` has
  // work marks it acting (the caller must call EndKey); else writes the status.
  KeyStart BeginKey(const std::string& key, const ObservedVm& vm, uint64_t seq);
  // `key` is no longer acting: installs `after` (observed at `seq`), writes
  // the status, and with queue_next queues the VMs the plan now lets through.
  void EndKey(const std::string& key, const std::optional<ObservedVm>& after, uint64_t seq,
              bool queue_next);

  // ---- failed applies (the planner's retry_backoff)
  // One more failure in a row of `key`'s applies; returns how many. The
  // planner holds a failed VM back until SetRetryAfter's time.
  int AddFailure(const std::string& key);
  void SetRetryAfter(const std::string& key, Clock::TimePoint at);
  void ClearFailures(const std::string& key);

  // ---- progress of the workers
  void CountExecuted(bool error);
  struct Executed {
    int executed = 0;
    int errors = 0;
    uint64_t late = 0;  // late observations installed
  };
  Executed executed() const;
  // Waits until the workers acted on more VMs than `before` counted or a
  // late observation arrived since, at most `poll`; then, while nothing
  // changed and some VM is acting, until `deadline` (Clock time).
  void WaitForProgress(const Executed& before, std::chrono::milliseconds poll,
                       Clock::TimePoint deadline);
  // Wakes WaitForProgress (a late observation, Stop).
  void Notify();

 private:
  // What the last executing scan found, kept between scans so that a worker
  // can plan its key against the whole fleet (rollouts count every VM of a set).
  struct View {
    std::shared_ptr<const specs::Snapshot> snap;
    std::shared_ptr<const DesiredBuild> desired;
    std::vector<std::string> order;                // keys, in inventory order
    std::map<std::string, ObservedVm> observed;    // by key
    std::map<std::string, uint64_t> observed_seq;  // when it was observed (newer wins)
  };
  // Requires mu_. The fleet's plan from `view`, with the clock-dependent
  // facts filled in and the acting VMs counted as applying.
  Plan PlanLocked(const View& view);
  // Requires mu_. Records `vm` observed at `seq` unless a newer one is there.
  bool InstallLocked(View& view, const ObservedVm& vm, uint64_t seq);
  // Requires mu_. Queues the keys `plan` gives work that nobody acts on,
  // except those in `except`; returns them.
  std::set<std::string> QueueActionableLocked(const Plan& plan,
                                              const std::set<std::string>& except);
  void PruneLocked(const std::vector<VmInfo>& inventory);

  const Clock* clock_;
  const Options options_;
  StatusWriter* status_;
  WorkQueue* queue_;

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;  // held_ released; executed_ or late_ changed
  View view_;
  uint64_t seq_ = 0;
  std::set<std::string> held_;
  std::map<std::string, std::string> acting_;  // key → op id being carried out
  std::map<std::string, Clock::TimePoint> disc_seen_;    // key → first seen with our disc
  std::map<std::string, Clock::TimePoint> retry_after_;  // key → backoff end
  std::map<std::string, int> failures_;                  // key → consecutive failures
  int executed_ = 0, errors_ = 0;  // VMs acted on by workers, since construction
  uint64_t late_ = 0;              // late observations installed
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_FLEET_STATE_H_
