#include "reconciler/scanner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace gitdisc::reconciler {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Conditions that do not change without a new commit or an operator.
bool Terminal(VmCondition c) {
  return c == VmCondition::kFailed || c == VmCondition::kHalted || c == VmCondition::kConflict ||
         c == VmCondition::kDriveBusy || c == VmCondition::kSuspended ||
         c == VmCondition::kNotManageable;
}

}  // namespace

// The observations of one scan, shared with the pool's tasks: a task that
// ends after the scan stopped waiting finds the batch abandoned.
struct Scanner::Batch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<ObservedVm>> fresh;
  int pending = 0;
  bool abandoned = false;

  // Records task i's result; true when the scan no longer waits for it.
  bool Finish(size_t i, std::optional<ObservedVm> vm) {
    std::lock_guard<std::mutex> l(mu);
    if (abandoned) return true;
    fresh[i] = std::move(vm);
    --pending;
    cv.notify_all();
    return false;
  }
};

void JudgePass(PassResult& pass) {
  bool any_actionable = false, any_moving = false;
  for (const VmPlan& v : pass.plan.vms) {
    if (v.kind == PlanKind::kSkip || (v.kind == PlanKind::kInSync && v.eject_drives.empty())) {
      continue;
    }
    if (Actionable(v)) any_actionable = true;
    // A VM that is shut off or paused waits for an operator, like a Failed
    // one: reconcile reports it instead of waiting for --timeout.
    bool powered_off = v.condition == VmCondition::kPending && v.reason == "NotRunning";
    if ((!Terminal(v.condition) && !powered_off) || v.retry_scheduled) any_moving = true;
  }
  pass.converged = pass.plan.InSync();
  pass.stuck = !pass.converged && !any_actionable && !any_moving;
}

Scanner::Scanner(ControllerParts parts, WorkerPool* observers, Options options)
    : p_(parts), observers_(observers), options_(std::move(options)) {}

void Scanner::ObserveAll(const DesiredBuild& desired, bool execute, FleetState::Scanned& scan,
                         const PartialFn& on_quiet) {
  const std::vector<VmInfo>& inventory = scan.inventory;
  auto batch = std::make_shared<Batch>();
  batch->fresh.resize(inventory.size());
  const auto start = SteadyClock::now();
  const auto start_by = start + options_.observe_timeout;  // too late to begin after this
  const auto wait_until =
      start + (execute ? options_.scan_wait : options_.observe_timeout + std::chrono::seconds(1));
  std::vector<bool> asked(inventory.size(), false);
  // The VMs observed longest ago go first: when a scan ends before the pool
  // got to every VM (a large fleet, slow guests), the next one starts with
  // those it missed.
  std::vector<size_t> order(inventory.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  {
    std::map<std::string, uint64_t> seen = p_.state->ObservedSeqs();
    auto when = [&](size_t i) {
      auto it = seen.find(inventory[i].key);
      return it == seen.end() ? 0 : it->second;
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return when(a) < when(b); });
  }
  for (size_t i : order) {
    const VmInfo& info = inventory[i];
    const uint64_t seq = scan.seqs[i] = p_.state->NextSeq();
    if (!desired.state.vms.count(info.key)) {
      // Never touched: not even its agent channel.
      scan.fresh[i] = ObservedFromInfo(info, options_.observe.our_roots);
      continue;
    }
    {
      std::lock_guard<std::mutex> l(batch->mu);
      ++batch->pending;
    }
    // A VM someone holds (a worker, an earlier scan's observation still
    // running) keeps its last observation.
    asked[i] = observers_->Submit([this, batch, i, info, seq, execute, start_by] {
      std::optional<ObservedVm> vm;
      if (SteadyClock::now() < start_by && p_.state->TryHold(info.key)) {
        ObserveOptions oo = options_.observe;
        oo.deadline = SteadyClock::now() + options_.observe_timeout;
        vm = p_.guard->Observe(*p_.provider, info, oo).vm;
        p_.state->Unhold(info.key);
      }
      bool late = batch->Finish(i, vm);
      if (late && vm && execute && p_.state->InstallLate(*vm, seq) && options_.late_reachable) {
        options_.late_reachable();
      }
    });
    if (!asked[i]) {
      std::lock_guard<std::mutex> l(batch->mu);
      --batch->pending;  // the pool is full: this VM keeps its last observation
    }
  }
  auto known = [&] {  // requires batch->mu
    std::vector<std::optional<ObservedVm>> out = scan.fresh;
    for (size_t i = 0; i < inventory.size(); ++i) {
      if (asked[i]) out[i] = batch->fresh[i];
    }
    return out;
  };
  std::unique_lock<std::mutex> l(batch->mu);
  int last_pending = batch->pending;
  auto last_change = SteadyClock::now();
  bool quiet_done = !on_quiet;
  while (batch->pending > 0) {
    auto now = SteadyClock::now();
    if (now >= wait_until) break;
    if (batch->pending != last_pending) {
      last_pending = batch->pending;
      last_change = now;
    }
    if (!quiet_done && now - last_change >= options_.quiet_after) {
      quiet_done = true;
      auto partial = known();
      l.unlock();
      on_quiet(partial);
      l.lock();
      continue;
    }
    batch->cv.wait_until(l, quiet_done ? wait_until
                                       : std::min(wait_until, last_change + options_.quiet_after));
  }
  batch->abandoned = true;
  scan.fresh = known();
}

std::set<std::string> Scanner::QueueEarly(FleetState::Scanned scan,
                                          const std::vector<std::optional<ObservedVm>>& partial) {
  scan.fresh = partial;
  FleetState::ScanPlan planned = p_.state->ApplyScan(scan, /*execute=*/true, false);
  return p_.state->QueueWork(planned.plan);
}

Result<PassResult> Scanner::Scan(bool execute, const std::string& rev) {
  auto started = p_.clock->Now();
  std::optional<RevisionTracker::Trigger> trigger;
  auto snap_or = p_.revisions->SnapshotAt(rev, &trigger);
  if (!execute) {
    // A dry run (diff, /api/v1/plan) hands the trigger on to the next reconcile.
    p_.revisions->HandBack(std::exchange(trigger, std::nullopt));
  }
  GITDISC_ASSIGN_OR_RETURN(auto snap, std::move(snap_or));
  GITDISC_ASSIGN_OR_RETURN(std::vector<VmInfo> inventory, p_.provider->ListVms());
  PassResult pass;
  GITDISC_ASSIGN_OR_RETURN(pass.desired, AssembleDesired(*snap, inventory));

  FleetState::Scanned scan;
  scan.snap = snap;
  scan.desired = std::make_shared<DesiredBuild>(pass.desired);
  scan.our_roots = options_.observe.our_roots;
  scan.fresh.resize(inventory.size());
  scan.seqs.resize(inventory.size());
  scan.inventory = std::move(inventory);
  std::set<std::string> queued_early;
  PartialFn early;
  if (execute) {
    early = [&](const std::vector<std::optional<ObservedVm>>& partial) {
      queued_early = QueueEarly(scan, partial);
    };
  }
  ObserveAll(pass.desired, execute, scan, early);

  // `gitdisc status` and the final table of `reconcile` are dry scans of the
  // current revision; a dry plan at another revision (PlanAt, diff --rev)
  // must not replace the fleet's status.
  FleetState::ScanPlan planned = p_.state->ApplyScan(scan, execute, !execute && rev.empty());
  pass.plan = std::move(planned.plan);
  if (execute) {
    // A VM queued early may be worked on (and pin its image) already: its
    // pins are not stale.
    std::vector<ObservedVm> idle;
    for (ObservedVm& vm : planned.idle) {
      if (!queued_early.count(vm.key)) idle.push_back(std::move(vm));
    }
    ReleaseStalePins(idle);
    p_.revisions->NoteRevision(pass.plan.revision, trigger);
    pass.executed = static_cast<int>(queued_early.size() +
                                     p_.state->QueueWork(pass.plan, queued_early).size());
  }
  p_.status->RefreshCacheBytes();
  JudgePass(pass);
  double seconds = std::chrono::duration<double>(p_.clock->Now() - started).count();
  p_.status->CountPass(seconds);
  if (execute && options_.pass_finished) options_.pass_finished(seconds);
  return pass;
}

void Scanner::ReleaseStalePins(const std::vector<ObservedVm>& observed) {
  auto pins = p_.cache->ListPins();
  if (!pins.ok()) {
    p_.status->AddEvent("Warning", "controller", "PinsUnreadable", pins.status().message());
    return;
  }
  std::map<std::string, const ObservedVm*> by_key;
  for (const ObservedVm& vm : observed) by_key[vm.key] = &vm;
  for (const auto& [digest, owners] : *pins) {
    for (const std::string& owner : owners) {
      auto it = by_key.find(owner);
      // Only a VM seen now, whose agent answers and runs nothing, can be
      // known not to need the image; a VM on a host that is down keeps it.
      if (it == by_key.end()) continue;
      const ObservedVm& vm = *it->second;
      if (!vm.running || !vm.agent_reachable || (vm.op && vm.op->running)) continue;
      bool holds = false;
      for (const ObservedDrive& d : vm.drives) holds |= d.our_bundle == digest;
      if (holds) continue;
      if (p_.cache->Unpin(digest, owner).ok()) {
        p_.status->AddEvent("Normal", "vm/" + vm.name, "PinReleased",
                            "image " + digest.substr(0, 12) + " is no longer in a drive of this VM");
      }
    }
  }
}

}  // namespace gitdisc::reconciler
