#include "reconciler/fleet_state.h"

#include <algorithm>
#include <utility>

namespace gitdisc::reconciler {

bool Actionable(const VmPlan& p) {
  return p.kind == PlanKind::kInstall || p.kind == PlanKind::kUpgrade ||
         p.kind == PlanKind::kRetry || p.kind == PlanKind::kFollow || !p.eject_drives.empty();
}

std::chrono::seconds ApplyTimeout(const DesiredBuild& d, const std::string& key,
                                  std::chrono::seconds margin) {
  std::chrono::seconds total{0};
  auto it = d.state.vms.find(key);
  if (it != d.state.vms.end()) {
    for (const DesiredPayload& p : it->second.payloads) total += p.timeout;
  }
  if (total.count() == 0) total = std::chrono::seconds(600);
  return total + margin;
}

FleetState::FleetState(const Clock* clock, Options options, StatusWriter* status,
                       WorkQueue* queue)
    : clock_(clock), options_(options), status_(status), queue_(queue) {}

bool FleetState::TryHold(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  return held_.insert(key).second;
}

void FleetState::Hold(const std::string& key) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return held_.count(key) == 0; });
  held_.insert(key);
}

void FleetState::Unhold(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  held_.erase(key);
  cv_.notify_all();
}

uint64_t FleetState::NextSeq() {
  std::lock_guard<std::mutex> l(mu_);
  return ++seq_;
}

bool FleetState::InstallLocked(View& view, const ObservedVm& vm, uint64_t seq) {
  auto it = view.observed_seq.find(vm.key);
  if (it != view.observed_seq.end() && it->second > seq) return false;
  view.observed_seq[vm.key] = seq;
  view.observed[vm.key] = vm;
  return true;
}

Plan FleetState::PlanLocked(const View& view) {
  auto now = clock_->Now();
  std::vector<ObservedVm> observed;
  observed.reserve(view.order.size());
  for (const std::string& key : view.order) {
    auto it = view.observed.find(key);
    if (it == view.observed.end()) continue;
    ObservedVm o = it->second;
    bool disc = std::any_of(o.drives.begin(), o.drives.end(),
                            [](const ObservedDrive& d) { return !d.our_bundle.empty(); });
    if (disc) {
      auto [seen, inserted] = disc_seen_.emplace(key, now);
      o.disc_overdue =
          now - seen->second > ApplyTimeout(*view.desired, key, options_.overdue_margin);
    } else {
      disc_seen_.erase(key);
    }
    auto r = retry_after_.find(key);
    o.retry_backoff = r != retry_after_.end() && now < r->second;
    o.retry_scheduled = o.retry_backoff && r->second != Clock::TimePoint::max();
    auto ex = acting_.find(key);
    if (ex != acting_.end()) {
      // A worker is carrying out this VM's steps: count it as applying (its
      // observation is from before), so the rollout keeps its limits.
      o.agent_reachable = true;
      o.agent_misbehaving.clear();
      ObservedOp op;
      op.op_id = ex->second;
      op.running = true;
      o.op = std::move(op);
    }
    observed.push_back(std::move(o));
  }
  // Without the controller's retry_failed, a failure of this run has an
  // endless backoff (KeyReconciler::RecordOutcome): only earlier ones retry.
  return MakePlan(view.desired->state, observed, {options_.retry_failed});
}

std::set<std::string> FleetState::QueueActionableLocked(const Plan& plan,
                                                       const std::set<std::string>& except) {
  std::set<std::string> queued;
  for (const VmPlan& vp : plan.vms) {
    if (!Actionable(vp) || except.count(vp.key) || acting_.count(vp.key)) continue;
    queue_->Add(vp.key);
    queued.insert(vp.key);
  }
  return queued;
}

void FleetState::PruneLocked(const std::vector<VmInfo>& inventory) {
  // Keys that left the inventory go, unless a worker still acts on them.
  std::set<std::string> listed;
  for (const VmInfo& info : inventory) listed.insert(info.key);
  for (auto it = view_.observed.begin(); it != view_.observed.end();) {
    if (!listed.count(it->first) && !acting_.count(it->first)) {
      view_.observed_seq.erase(it->first);
      it = view_.observed.erase(it);
    } else {
      ++it;
    }
  }
}

FleetState::ScanPlan FleetState::ApplyScan(const Scanned& scan, bool execute, bool write_status) {
  ScanPlan out;
  std::lock_guard<std::mutex> l(mu_);
  View scanned;
  View* view = execute ? &view_ : &scanned;
  if (execute) {
    PruneLocked(scan.inventory);
  } else {
    scanned = view_;
  }
  view->snap = scan.snap;
  view->desired = scan.desired;
  view->order.clear();
  for (size_t i = 0; i < scan.inventory.size(); ++i) {
    const std::string& key = scan.inventory[i].key;
    view->order.push_back(key);
    if (scan.fresh[i]) {
      InstallLocked(*view, *scan.fresh[i], scan.seqs[i]);
      if (!acting_.count(key)) out.idle.push_back(*scan.fresh[i]);
    } else if (!view->observed.count(key)) {
      // Held since before any scan saw it, or its observation is still
      // running: what the provider says.
      ObservedVm o = ObservedFromInfo(scan.inventory[i], scan.our_roots);
      if (o.running) o.agent_error = "not observed yet (its observation is still running)";
      view->observed[key] = std::move(o);
    }
  }
  out.plan = PlanLocked(*view);
  if (!execute && write_status) status_->Write(out.plan, view->observed, acting_);
  return out;
}

std::set<std::string> FleetState::QueueWork(const Plan& plan,
                                            const std::set<std::string>& except) {
  std::lock_guard<std::mutex> l(mu_);
  std::set<std::string> queued = QueueActionableLocked(plan, except);
  status_->Write(plan, view_.observed, acting_);
  return queued;
}

bool FleetState::InstallLate(const ObservedVm& vm, uint64_t seq) {
  std::lock_guard<std::mutex> l(mu_);
  // Possibly before its scan installed anything for the VM (the scan
  // stopped waiting, then this finished first): ApplyScan keeps it then.
  auto it = view_.observed.find(vm.key);
  bool was_reachable = it != view_.observed.end() && it->second.agent_reachable;
  if (!InstallLocked(view_, vm, seq)) return false;
  ++late_;
  cv_.notify_all();
  return vm.agent_reachable && !was_reachable;
}

bool FleetState::HasView() const {
  std::lock_guard<std::mutex> l(mu_);
  return view_.desired != nullptr;
}

bool FleetState::Knows(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  return view_.observed.count(key) > 0;
}

std::map<std::string, uint64_t> FleetState::ObservedSeqs() const {
  std::lock_guard<std::mutex> l(mu_);
  return view_.observed_seq;
}

void FleetState::Forget(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  view_.observed.erase(key);
  view_.observed_seq.erase(key);
}

FleetState::KeyStart FleetState::BeginKey(const std::string& key, const ObservedVm& vm,
                                          uint64_t seq) {
  KeyStart out;
  std::lock_guard<std::mutex> l(mu_);
  InstallLocked(view_, vm, seq);
  if (std::find(view_.order.begin(), view_.order.end(), key) == view_.order.end()) {
    // A VM the last scan did not list: its desired state needs a scan.
    view_.order.push_back(key);
    out.new_vm = true;
  }
  Plan plan = PlanLocked(view_);
  auto it = std::find_if(plan.vms.begin(), plan.vms.end(),
                         [&](const VmPlan& p) { return p.key == key; });
  if (it == plan.vms.end()) return out;
  out.found = true;
  out.plan = *it;
  if (!Actionable(out.plan)) {
    status_->Write(plan, view_.observed, acting_);
    return out;
  }
  out.act = true;
  acting_[key] = out.plan.op_id;
  out.snap = view_.snap;
  out.desired = view_.desired;
  return out;
}

void FleetState::EndKey(const std::string& key, const std::optional<ObservedVm>& after,
                        uint64_t seq, bool queue_next) {
  std::lock_guard<std::mutex> l(mu_);
  acting_.erase(key);
  if (after) InstallLocked(view_, *after, seq);
  Plan plan = PlanLocked(view_);
  status_->Write(plan, view_.observed, acting_);
  if (queue_next) QueueActionableLocked(plan, {key});
}

int FleetState::AddFailure(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  return ++failures_[key];
}

void FleetState::SetRetryAfter(const std::string& key, Clock::TimePoint at) {
  std::lock_guard<std::mutex> l(mu_);
  retry_after_[key] = at;
}

void FleetState::ClearFailures(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.erase(key);
  retry_after_.erase(key);
}

void FleetState::CountExecuted(bool error) {
  std::lock_guard<std::mutex> l(mu_);
  ++executed_;
  if (error) ++errors_;
  cv_.notify_all();
}

FleetState::Executed FleetState::executed() const {
  std::lock_guard<std::mutex> l(mu_);
  return {executed_, errors_, late_};
}

void FleetState::WaitForProgress(const Executed& before, std::chrono::milliseconds poll,
                                 Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> l(mu_);
  auto changed = [&] { return executed_ != before.executed || late_ != before.late; };
  cv_.wait_for(l, poll, changed);
  while (!changed() && !acting_.empty() && clock_->Now() < deadline) cv_.wait_for(l, poll);
}

void FleetState::Notify() {
  std::lock_guard<std::mutex> l(mu_);
  cv_.notify_all();
}

}  // namespace gitdisc::reconciler
