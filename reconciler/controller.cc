#include "reconciler/controller.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>

#include "reconciler/bundle_builder.h"

namespace gitdisc::reconciler {
namespace {

int64_t Unix(const Clock* clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock->WallNow().time_since_epoch())
      .count();
}

// Images from the cache, built from one snapshot's bundles when missing.
class CacheImages final : public ImageSource {
 public:
  // `build_mu` is shared by every worker: one build at a time on 2 cores,
  // and a bundle several VMs need is built once, the others reuse it.
  CacheImages(std::mutex* build_mu, iso::IsoCache* cache,
              std::shared_ptr<const specs::Snapshot> snap, const DesiredBuild* desired,
              std::vector<std::string> roots,
              std::function<void(const std::string&, bool)> on_build)
      : mu_(*build_mu),
        cache_(cache),
        snap_(std::move(snap)),
        desired_(desired),
        roots_(std::move(roots)),
        on_build_(std::move(on_build)) {}
  Result<std::string> Ensure(const std::string& digest, const std::string& owner) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = desired_->bundles.find(digest);
    if (it == desired_->bundles.end()) {
      GITDISC_RETURN_IF_ERROR(cache_->Pin(digest, owner));
      if (cache_->Contains(digest)) return cache_->PathFor(digest);
      return Status::NotFound("bundle " + digest + " is not desired at this revision");
    }
    GITDISC_ASSIGN_OR_RETURN(EnsuredImage img,
                             EnsureImage(*cache_, snap_, digest, it->second, owner));
    if (on_build_) on_build_(digest, img.built);
    return img.path;
  }
  void Release(const std::string& digest, const std::string& owner) override {
    (void)cache_->Unpin(digest, owner);
  }
  std::vector<std::string> Roots() const override { return roots_; }

 private:
  std::mutex& mu_;
  iso::IsoCache* cache_;
  std::shared_ptr<const specs::Snapshot> snap_;
  const DesiredBuild* desired_;
  std::vector<std::string> roots_;
  std::function<void(const std::string&, bool)> on_build_;
};

bool Actionable(const VmPlan& p) {
  return p.kind == PlanKind::kInstall || p.kind == PlanKind::kUpgrade ||
         p.kind == PlanKind::kRetry || p.kind == PlanKind::kFollow || !p.eject_drives.empty();
}

// Conditions that do not change without a new commit or an operator.
bool Terminal(VmCondition c) {
  return c == VmCondition::kFailed || c == VmCondition::kHalted || c == VmCondition::kConflict ||
         c == VmCondition::kDriveBusy || c == VmCondition::kSuspended;
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

}  // namespace

nlohmann::json PlanToJson(const Plan& plan, const DesiredBuild& desired,
                          const std::function<bool(const std::string&)>& cached) {
  using nlohmann::json;
  json vms = json::array();
  for (const VmPlan& v : plan.vms) {
    json payloads = json::array();
    for (const PayloadStatus& p : v.payloads) {
      payloads.push_back({{"name", p.name},
                          {"version", p.version},
                          {"digest", p.digest},
                          {"state", PayloadStateName(p.state)}});
    }
    vms.push_back({{"key", v.key},
                   {"name", v.name},
                   {"host", v.host},
                   {"action", PlanKindName(v.kind)},
                   {"condition", VmConditionName(v.condition)},
                   {"reason", v.reason},
                   {"message", v.message},
                   {"sets", v.sets},
                   {"payloads", payloads},
                   {"apply", v.apply},
                   {"bundleDigest", v.bundle_digest},
                   {"eject", v.eject_drives},
                   {"insertDrive", v.insert_drive},
                   {"operationId", v.op_id}});
  }
  json bundles = json::array();
  for (const auto& [digest, names] : desired.bundle_vms) {
    int to_act = 0;
    for (const VmPlan& v : plan.vms) {
      if (v.bundle_digest == digest && !v.insert_drive.empty()) ++to_act;
    }
    bundles.push_back({{"digest", digest},
                       {"vms", names},
                       {"sharedBy", names.size()},
                       {"inserts", to_act},
                       {"cached", cached ? cached(digest) : false}});
  }
  json sets = json::array();
  for (const SetStatus& s : plan.sets) sets.push_back(ToJson(s));
  return json{{"schemaVersion", 1},
              {"revision", plan.revision},
              {"inSync", plan.InSync()},
              {"pending", plan.Pending()},
              {"vms", vms},
              {"bundles", bundles},
              {"sets", sets}};
}

Controller::Controller(Provider* provider, specs::Source* source, iso::IsoCache* cache,
                       const Clock* clock, ControllerOptions options)
    : provider_(provider),
      source_(source),
      cache_(cache),
      clock_(clock),
      options_(std::move(options)),
      queue_(clock) {}

Controller::~Controller() {
  Stop();
  queue_.ShutDown();
  for (auto& w : workers_) w.join();
}

std::vector<std::string> Controller::Roots() const {
  std::vector<std::string> roots = options_.extra_roots;
  std::string p = cache_->PathFor(std::string(64, '0'));
  roots.push_back(p.substr(0, p.rfind('/')));
  return roots;
}

ObserveOptions Controller::MakeObserveOptions() const {
  ObserveOptions oo;
  oo.our_roots = Roots();
  oo.agent = options_.agent;
  return oo;
}

void Controller::AddEvent(const std::string& type, const std::string& object,
                          const std::string& reason, const std::string& message) {
  events_.Add({Unix(clock_), type, object, reason, message});
}

Result<std::shared_ptr<const specs::Snapshot>> Controller::SnapshotAt(
    const std::string& rev, std::optional<Trigger>* trigger) {
  if (!rev.empty()) {
    // An explicit revision is held to the same signature rule as the tip,
    // checked before its specs are read.
    GITDISC_ASSIGN_OR_RETURN(specs::SignatureVerdict verdict, source_->Verify(rev));
    if (!verdict.verified()) {
      return Status::Invalid("revision " + rev + " is not verified: " +
                             specs::SignatureDiagnostic(verdict).ToString());
    }
    GITDISC_ASSIGN_OR_RETURN(auto snap, source_->Load(rev));
    return snap;
  }
  bool poll;
  {
    // The trigger goes with the poll it asked for, so a pass that began
    // before a webhook never spends that webhook's trigger.
    std::lock_guard<std::mutex> l(mu_);
    poll = source_dirty_;
    source_dirty_ = false;
    trigger->swap(trigger_);
    trigger_.reset();
  }
  GITDISC_ASSIGN_OR_RETURN(specs::SourceState st, poll ? source_->Poll() : source_->State());
  SourceStatus ss;
  ss.repo = source_->options().repo;
  ss.branch = st.branch;
  ss.revision = st.tip;
  ss.last_valid_revision = st.newest_valid;
  ss.fetched_unix = Unix(clock_);
  for (const auto& inv : st.invalid) {
    if (inv.signature.has_value()) {
      if (ss.unverified_revision.empty()) {
        ss.unverified_revision = inv.revision;
        ss.unverified_commit = inv.signature->commit;
        ss.unverified_reason = inv.signature->Reason();
      }
      continue;
    }
    for (const auto& d : inv.diagnostics) ss.spec_errors.push_back(d.ToString());
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    std::string staying =
        "; staying on " +
        (ss.last_valid_revision.empty() ? "nothing" : ss.last_valid_revision.substr(0, 12));
    if (!ss.spec_errors.empty() && source_status_.spec_errors != ss.spec_errors) {
      AddEvent("Warning", "source", "SpecInvalid",
               "revision " + ss.revision.substr(0, 12) + " is invalid" + staying);
    }
    if (!ss.unverified_revision.empty() &&
        source_status_.unverified_revision != ss.unverified_revision) {
      AddEvent("Warning", "source", "SignatureUnverified",
               "revision " + ss.unverified_revision.substr(0, 12) + " is not verified (commit " +
                   ss.unverified_commit.substr(0, 12) + ": " + ss.unverified_reason + ")" +
                   staying);
    }
    source_status_ = ss;
  }
  if (st.newest_valid.empty()) {
    std::string where = st.walkback_exhausted
                            ? " within the " + std::to_string(st.invalid.size()) +
                                  " newest commits (walking back further continues at the next poll)"
                            : " (every commit of the branch is invalid)";
    std::string why = !ss.spec_errors.empty() ? ss.spec_errors.front()
                      : !ss.unverified_revision.empty()
                          ? "signature: commit " + ss.unverified_commit.substr(0, 12) + ": " +
                                ss.unverified_reason
                          : std::string();
    return Status::Invalid("no valid revision on branch " + st.branch + where +
                           (why.empty() ? "" : ":\n" + why));
  }
  return source_->Load(st.newest_valid);
}

bool Controller::Hold(const std::string& key, bool wait) {
  std::unique_lock<std::mutex> l(mu_);
  if (wait) cv_.wait(l, [&] { return held_.count(key) == 0; });
  return held_.insert(key).second;
}

void Controller::Unhold(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  held_.erase(key);
  cv_.notify_all();
}

void Controller::InstallLocked(const ObservedVm& vm, uint64_t seq) {
  auto it = view_.observed_seq.find(vm.key);
  if (it != view_.observed_seq.end() && it->second > seq) return;
  view_.observed_seq[vm.key] = seq;
  view_.observed[vm.key] = vm;
}

Plan Controller::PlanLocked(const FleetView& view) {
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
    auto ex = executing_.find(key);
    if (ex != executing_.end()) {
      // A worker is carrying out this VM's steps: count it as applying (its
      // observation is from before), so the rollout keeps its limits.
      o.agent_reachable = true;
      ObservedOp op;
      op.op_id = ex->second;
      op.running = true;
      o.op = std::move(op);
    }
    observed.push_back(std::move(o));
  }
  return MakePlan(view.desired->state, observed, {options_.retry_failed});
}

int Controller::QueueActionableLocked(const Plan& plan, const std::string& except) {
  int n = 0;
  for (const VmPlan& vp : plan.vms) {
    if (!Actionable(vp) || vp.key == except || executing_.count(vp.key)) continue;
    queue_.Add(vp.key);
    ++n;
  }
  return n;
}

Result<PassResult> Controller::Scan(bool execute, const std::string& rev) {
  auto started = clock_->Now();
  std::optional<Trigger> trigger;
  auto snap_or = SnapshotAt(rev, &trigger);
  if (!execute && trigger) {
    // A dry run (diff, /api/v1/plan) hands the trigger on to the next reconcile.
    std::lock_guard<std::mutex> l(mu_);
    if (!trigger_) trigger_ = std::move(trigger);
  }
  GITDISC_ASSIGN_OR_RETURN(auto snap, std::move(snap_or));
  GITDISC_ASSIGN_OR_RETURN(std::vector<VmInfo> inventory, provider_->ListVms());
  PassResult pass;
  GITDISC_ASSIGN_OR_RETURN(pass.desired, AssembleDesired(*snap, inventory));

  // Observe every selected VM nobody holds; a held one (a worker is on it)
  // keeps its last observation.
  ObserveOptions oo = MakeObserveOptions();
  std::vector<std::optional<ObservedVm>> fresh(inventory.size());
  std::vector<uint64_t> seqs(inventory.size());
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inventory.size(); ++i) {
      {
        std::lock_guard<std::mutex> l(mu_);
        seqs[i] = ++observe_seq_;
      }
      if (!pass.desired.state.vms.count(inventory[i].key)) {
        // Never touched: not even its agent channel.
        fresh[i] = ObservedFromInfo(inventory[i], oo.our_roots);
        continue;
      }
      threads.emplace_back([&, i] {
        if (!Hold(inventory[i].key, /*wait=*/false)) return;
        fresh[i] = Observe(*provider_, inventory[i], oo).vm;
        Unhold(inventory[i].key);
      });
    }
    for (auto& t : threads) t.join();
  }

  std::vector<ObservedVm> idle;  // observed now, not being worked on
  {
    std::lock_guard<std::mutex> l(mu_);
    FleetView scanned;
    FleetView* view = execute ? &view_ : &scanned;
    if (execute) {
      // Keys that left the inventory go, unless a worker still holds them.
      std::set<std::string> listed;
      for (const VmInfo& info : inventory) listed.insert(info.key);
      for (auto it = view_.observed.begin(); it != view_.observed.end();) {
        if (!listed.count(it->first) && !executing_.count(it->first)) {
          view_.observed_seq.erase(it->first);
          it = view_.observed.erase(it);
        } else {
          ++it;
        }
      }
    } else {
      scanned = view_;
    }
    view->snap = snap;
    view->desired = std::make_shared<DesiredBuild>(pass.desired);
    view->order.clear();
    for (size_t i = 0; i < inventory.size(); ++i) {
      const std::string& key = inventory[i].key;
      view->order.push_back(key);
      if (fresh[i]) {
        auto it = view->observed_seq.find(key);
        if (it == view->observed_seq.end() || it->second < seqs[i]) {
          view->observed_seq[key] = seqs[i];
          view->observed[key] = *fresh[i];
        }
        if (!executing_.count(key)) idle.push_back(*fresh[i]);
      } else if (!view->observed.count(key)) {
        // Held since before any scan saw it: what the provider says.
        view->observed[key] = ObservedFromInfo(inventory[i], oo.our_roots);
      }
    }
    pass.plan = PlanLocked(*view);
    // `gitdisc status` and the final table of `reconcile` are dry scans of
    // the current revision; a dry plan at another revision (PlanAt, diff
    // --rev) must not replace the fleet's status.
    if (!execute && rev.empty()) WriteStatusLocked(pass.plan, *view);
  }

  if (execute) {
    ReleaseStalePins(idle);
    std::lock_guard<std::mutex> l(mu_);
    // A trigger that led this pass to a new revision starts its clock
    // towards the first insert; one that found nothing new is spent.
    if (pass.plan.revision != last_revision_ && trigger) {
      awaiting_first_insert_ = Trigger{trigger->reason, trigger->at, pass.plan.revision};
    }
    last_revision_ = pass.plan.revision;
    pass.executed = QueueActionableLocked(pass.plan, "");
    WriteStatusLocked(pass.plan, view_);
  }

  // Converged / stuck, judged on this pass's plan.
  bool any_actionable = false, any_moving = false;
  for (const VmPlan& v : pass.plan.vms) {
    if (v.kind == PlanKind::kSkip || (v.kind == PlanKind::kInSync && v.eject_drives.empty())) {
      continue;
    }
    if (Actionable(v)) any_actionable = true;
    // A VM that is shut off or paused waits for an operator, like a Failed
    // one: reconcile reports it instead of waiting for --timeout.
    bool powered_off = v.condition == VmCondition::kPending && v.reason == "NotRunning";
    if (!Terminal(v.condition) && !powered_off) any_moving = true;
  }
  pass.converged = pass.plan.InSync();
  pass.stuck = !pass.converged && !any_actionable && !any_moving;

  double seconds = std::chrono::duration<double>(clock_->Now() - started).count();
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.reconciles_total;
    counters_.reconcile_seconds_sum += seconds;
  }
  if (execute && options_.hooks.pass_finished) options_.hooks.pass_finished(seconds);
  return pass;
}

Result<PassResult> Controller::RunPass(bool execute, const std::string& rev) {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  int executed0, errors0;
  {
    std::lock_guard<std::mutex> l(mu_);
    executed0 = executed_;
    errors0 = exec_errors_;
  }
  GITDISC_ASSIGN_OR_RETURN(PassResult pass, Scan(execute, rev));
  if (!execute) return pass;
  // The queued keys are worked on, and the pass is over when they are.
  StartWorkers();
  queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
  std::lock_guard<std::mutex> l(mu_);
  pass.executed = executed_ - executed0;
  pass.errors = exec_errors_ - errors0;
  return pass;
}

Controller::ReconcileResult Controller::Reconcile(const std::string& key) {
  ReconcileResult out;
  Hold(key, /*wait=*/true);
  struct Unholder {
    Controller* c;
    const std::string& key;
    ~Unholder() { c->Unhold(key); }
  } unhold{this, key};
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!view_.desired) return out;  // no scan yet: it will queue what needs work
  }
  auto info = provider_->GetVm(key);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) {
      std::lock_guard<std::mutex> l(mu_);
      view_.observed.erase(key);
      view_.observed_seq.erase(key);
      return out;
    }
    out.status = info.status();
    out.requeue_after =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.backoff_base);
    return out;
  }
  ObserveOptions oo = MakeObserveOptions();
  uint64_t seq;
  {
    std::lock_guard<std::mutex> l(mu_);
    seq = ++observe_seq_;
  }
  Observation ob = Observe(*provider_, *info, oo);

  VmPlan vp;
  std::shared_ptr<const specs::Snapshot> snap;
  std::shared_ptr<const DesiredBuild> desired;
  {
    std::lock_guard<std::mutex> l(mu_);
    InstallLocked(ob.vm, seq);
    if (std::find(view_.order.begin(), view_.order.end(), key) == view_.order.end()) {
      // A VM the last scan did not list: its desired state needs a scan.
      view_.order.push_back(key);
      wake_ = true;
      cv_.notify_all();
    }
    Plan plan = PlanLocked(view_);
    auto it = std::find_if(plan.vms.begin(), plan.vms.end(),
                           [&](const VmPlan& p) { return p.key == key; });
    if (it == plan.vms.end()) return out;
    vp = *it;
    if (!Actionable(vp)) {
      WriteStatusLocked(plan, view_);
      if (vp.condition == VmCondition::kAgentUnavailable) {
        // Perhaps still booting: look again, the way a failure would.
        out.requeue_after =
            std::chrono::duration_cast<std::chrono::milliseconds>(options_.backoff_base);
      }
      return out;
    }
    executing_[key] = vp.op_id;
    snap = view_.snap;
    desired = view_.desired;
  }

  // "apply" right after an insert: the moment the first disc went in.
  ProgressFn progress = [this](const std::string& vm, const std::string& step,
                               const std::string& detail) {
    if (step == "apply") NoteApplySent(vm);
    if (options_.progress) options_.progress(vm, step, detail);
  };
  CacheImages images(&build_mu_, cache_, snap, desired.get(), Roots(),
                     [this](const std::string& d, bool built) {
                       if (built) {
                         std::lock_guard<std::mutex> l(mu_);
                         ++counters_.iso_builds_total;
                         AddEvent("Normal", "bundle/" + d.substr(0, 12), "Built", "image built");
                       }
                       if (options_.progress)
                         options_.progress("-", built ? "build" : "reuse", d.substr(0, 12));
                     });
  auto res =
      Execute(vp, *provider_, ob.agent.get(), images,
              ApplyTimeout(*desired, key, options_.exec.apply_margin), options_.exec, progress);
  out.executed = true;
  out.requeue_after = RecordOutcome(vp, res);
  if (!res.ok()) out.status = res.status();

  // Re-read the VM (ledger, drives) so the view and the status show the
  // outcome, then let the rollout through to whoever waits for this one.
  {
    std::lock_guard<std::mutex> l(mu_);
    seq = ++observe_seq_;
  }
  auto after_info = provider_->GetVm(key);
  std::optional<ObservedVm> after;
  if (after_info.ok()) after = Observe(*provider_, *after_info, oo, std::move(ob.agent)).vm;
  std::lock_guard<std::mutex> l(mu_);
  executing_.erase(key);
  if (after) InstallLocked(*after, seq);
  Plan plan = PlanLocked(view_);
  WriteStatusLocked(plan, view_);
  if (background_) QueueActionableLocked(plan, key);
  return out;
}

std::optional<std::chrono::milliseconds> Controller::RecordOutcome(const VmPlan& vp,
                                                                   const Result<ExecResult>& res) {
  std::lock_guard<std::mutex> l(mu_);
  ++executed_;
  auto backoff = [&](int n) {
    auto delay = options_.backoff_base * (1 << std::min(n - 1, 10));
    if (delay > options_.backoff_max) delay = options_.backoff_max;
    std::mt19937 rng(std::hash<std::string>()(vp.key) + n);
    return std::chrono::duration_cast<std::chrono::milliseconds>(delay) +
           std::chrono::milliseconds(rng() % 1000);
  };
  if (!res.ok()) {
    ++exec_errors_;
    ++counters_.reconcile_errors_total;
    AddEvent("Warning", "vm/" + vp.name, "StepFailed", res.status().message());
    if (options_.progress) options_.progress(vp.name, "error", res.status().message());
    return backoff(1);
  }
  counters_.inserts_total += res->inserts;
  counters_.ejects_total += res->ejects;
  if (!res->applied) return std::nullopt;
  ++counters_.applies_total[res->ok ? "ok" : "failed"];
  AddEvent(res->ok ? "Normal" : "Warning", "vm/" + vp.name,
           res->ok ? "ApplySucceeded" : "ApplyFailed",
           res->ok ? vp.op_id : vp.op_id + ": " + res->message);
  if (res->ok) {
    failures_.erase(vp.key);
    retry_after_.erase(vp.key);
    return std::nullopt;
  }
  auto delay = backoff(++failures_[vp.key]);
  retry_after_[vp.key] = clock_->Now() + delay;
  if (!options_.retry_failed) return std::nullopt;  // Failed until a new revision
  return delay;
}

void Controller::StartWorkers() {
  std::lock_guard<std::mutex> l(mu_);
  if (!workers_.empty()) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Controller::WorkerLoop() {
  while (auto key = queue_.Get()) {
    ReconcileResult r = Reconcile(*key);
    bool background;
    {
      std::lock_guard<std::mutex> l(mu_);
      background = background_;
    }
    // Only the daemon looks again by itself; RunPass and RunUntilConverged
    // scan again instead.
    if (r.requeue_after && background) queue_.AddAfter(*key, *r.requeue_after);
    queue_.Done(*key);
    if (r.executed) {
      // RunUntilConverged looks again as soon as a VM is done.
      std::lock_guard<std::mutex> l(mu_);
      cv_.notify_all();
    }
  }
}

void Controller::ReleaseStalePins(const std::vector<ObservedVm>& observed) {
  auto pins = cache_->ListPins();
  if (!pins.ok()) {
    AddEvent("Warning", "controller", "PinsUnreadable", pins.status().message());
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
      if (cache_->Unpin(digest, owner).ok()) {
        AddEvent("Normal", "vm/" + vm.name, "PinReleased",
                 "image " + digest.substr(0, 12) + " is no longer in a drive of this VM");
      }
    }
  }
}

void Controller::NoteApplySent(const std::string& vm) {
  std::optional<Trigger> t;
  {
    std::lock_guard<std::mutex> l(mu_);
    t.swap(awaiting_first_insert_);
  }
  if (!t) return;
  double seconds = std::chrono::duration<double>(clock_->Now() - t->at).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  AddEvent("Normal", "vm/" + vm, "FirstInsert",
           "first disc of " + t->revision.substr(0, 12) + " in " + buf + " s after " + t->reason);
  if (options_.hooks.first_insert) options_.hooks.first_insert(vm, t->revision, t->reason, seconds);
}

void Controller::WriteStatusLocked(const Plan& plan, const FleetView& view) {
  FleetStatus fs;
  fs.generated_unix = Unix(clock_);
  for (const VmPlan& p : plan.vms) {
    VmStatus v;
    v.key = p.key;
    v.name = p.name;
    v.host = p.host;
    if (auto o = view.observed.find(p.key); o != view.observed.end()) {
      v.power = o->second.power;
      v.labels = o->second.labels;
      for (const ObservedDrive& d : o->second.drives) {
        if (!d.our_bundle.empty()) v.disc_inserted = d.our_bundle;
      }
      if (o->second.op && o->second.op->running) v.operation_id = o->second.op->op_id;
    }
    if (auto ex = executing_.find(p.key); ex != executing_.end()) v.operation_id = ex->second;
    v.sets = p.sets;
    v.condition = p.condition;
    v.reason = p.reason;
    v.message = p.message;
    v.payloads = p.payloads;
    v.bundle_digest = p.bundle_digest;
    v.revision = plan.revision;
    auto last = last_condition_.find(p.key);
    if (last == last_condition_.end() || last->second != p.condition) {
      last_condition_[p.key] = p.condition;
      v.last_transition_unix = fs.generated_unix;
      if (last != last_condition_.end() || p.condition != VmCondition::kNotSelected) {
        AddEvent(p.condition == VmCondition::kFailed || p.condition == VmCondition::kHalted ||
                         p.condition == VmCondition::kDriveBusy
                     ? "Warning"
                     : "Normal",
                 "vm/" + p.name, VmConditionName(p.condition), p.message);
      }
    } else {
      for (const VmStatus& old : status_.vms) {
        if (old.key == p.key) v.last_transition_unix = old.last_transition_unix;
      }
    }
    fs.vms.push_back(std::move(v));
  }
  fs.sets = plan.sets;
  fs.source = source_status_;
  fs.counters = counters_;
  if (auto b = cache_->TotalBytes(); b.ok()) fs.iso_cache_bytes = *b;
  fs.events = events_.Snapshot(&fs.events_total);
  status_ = std::move(fs);
  ready_ = true;
}

Result<PassResult> Controller::RunUntilConverged(std::chrono::steady_clock::time_point deadline,
                                                 const std::string& rev) {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  StartWorkers();
  for (;;) {
    int done_before;
    {
      std::lock_guard<std::mutex> l(mu_);
      done_before = executed_;
    }
    auto pass = Scan(/*execute=*/true, rev);
    // converged and stuck count the VMs being worked on as moving, so both
    // mean that no worker is busy; the deadline lets running work finish.
    if (!pass.ok() || pass->converged || pass->stuck || clock_->Now() >= deadline) {
      queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
      if (!pass.ok() || clock_->Now() >= deadline) return pass;
      // A worker may have held a VM during that scan (a re-queued key being
      // looked at), so the scan neither observed it nor released its stale
      // pins: with every worker idle, one more scan sees every VM.
      auto last = Scan(/*execute=*/true, rev);
      if (!last.ok() || last->converged || last->stuck) {
        queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
        return last;
      }
      continue;
    }
    // Scan again as soon as a VM is done (its rollout may let others
    // through), or after idle_poll when no worker has anything to do
    // (agents still booting).
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, options_.idle_poll, [&] { return executed_ != done_before; });
    while (executed_ == done_before && !executing_.empty() && clock_->Now() < deadline) {
      cv_.wait_for(l, options_.idle_poll);
    }
  }
}

FleetStatus Controller::Status() const {
  std::lock_guard<std::mutex> l(mu_);
  FleetStatus s = status_;
  s.events = events_.Snapshot(&s.events_total);
  return s;
}

void Controller::EnqueueAll(std::string_view reason) {
  AddEvent("Normal", "controller", "Enqueued", std::string(reason));
  std::lock_guard<std::mutex> l(mu_);
  wake_ = true;
  cv_.notify_all();
}

void Controller::NotifySourceChanged(std::string_view reason) {
  AddEvent("Normal", "source", "SourceChanged", std::string(reason));
  std::lock_guard<std::mutex> l(mu_);
  if (!trigger_) trigger_ = Trigger{std::string(reason), clock_->Now(), ""};
  source_dirty_ = true;
  wake_ = true;
  cv_.notify_all();
}

void Controller::OnProviderEvent(const std::string& key, EventKind kind) {
  // Quick and without calls into the provider: this runs on its event thread.
  std::lock_guard<std::mutex> l(mu_);
  bool known = view_.observed.count(key) > 0;
  if (known && (kind == EventKind::kTrayChanged || kind == EventKind::kDiskChanged ||
                kind == EventKind::kLifecycle)) {
    queue_.Add(key);
    return;
  }
  // New VMs, label changes and lost hosts change the desired state: a scan.
  wake_ = true;
  cv_.notify_all();
}

Result<nlohmann::json> Controller::PlanAt(const std::string& revision) {
  GITDISC_ASSIGN_OR_RETURN(PassResult pass, RunPass(/*execute=*/false, revision));
  return PlanToJson(pass.plan, pass.desired,
                    [this](const std::string& d) { return cache_->Contains(d); });
}

bool Controller::Ready() const {
  std::lock_guard<std::mutex> l(mu_);
  return ready_;
}

void Controller::Start() {
  StartWorkers();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (thread_.joinable()) return;
    stop_ = false;
    background_ = true;
  }
  if (gitdisc::Status st = provider_->Watch(
          [this](const std::string& key, EventKind kind) { OnProviderEvent(key, kind); });
      !st.ok()) {
    // Scans on the timer still find every change; events only make it sooner.
    AddEvent("Warning", "controller", "EventsUnavailable", st.message());
  } else {
    std::lock_guard<std::mutex> l(mu_);
    watching_ = true;
  }
  std::lock_guard<std::mutex> l(mu_);
  thread_ = std::thread([this] { Loop(); });
}

void Controller::Stop() {
  bool watching;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    watching = std::exchange(watching_, false);
    cv_.notify_all();
  }
  if (watching) (void)provider_->Watch(nullptr);
  if (thread_.joinable()) thread_.join();
  // Keys not started yet are dropped; work in flight finishes (ejects).
  queue_.ShutDown();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void Controller::Loop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
      wake_ = false;
    }
    Result<PassResult> pass = Status::Internal("no scan");
    {
      std::lock_guard<std::mutex> pass_lock(pass_mu_);
      pass = Scan(/*execute=*/true, "");
    }
    if (!pass.ok()) {
      AddEvent("Warning", "controller", "PassFailed", pass.status().message());
    }
    // Workers carry the queued keys and queue the next VMs a rollout lets
    // through; the loop only scans again when woken, or after backoff_base
    // while something is still moving, or resync_interval when converged.
    std::unique_lock<std::mutex> l(mu_);
    if (stop_) return;
    cv_.wait_for(
        l,
        std::chrono::duration_cast<std::chrono::milliseconds>(
            pass.ok() && !pass->converged ? std::chrono::milliseconds(options_.backoff_base)
                                          : std::chrono::milliseconds(options_.resync_interval)),
        [this] { return stop_ || wake_; });
  }
}

}  // namespace gitdisc::reconciler
