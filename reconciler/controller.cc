#include "reconciler/controller.h"

#include <algorithm>
#include <cstdio>
#include <random>

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
  CacheImages(iso::IsoCache* cache, std::shared_ptr<const specs::Snapshot> snap,
              const DesiredBuild* desired, std::vector<std::string> roots,
              std::function<void(const std::string&, bool)> on_build)
      : cache_(cache),
        snap_(std::move(snap)),
        desired_(desired),
        roots_(std::move(roots)),
        on_build_(std::move(on_build)) {}
  Result<std::string> Ensure(const std::string& digest, const std::string& owner) override {
    std::lock_guard<std::mutex> l(mu_);  // one build at a time on 2 cores
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
  std::mutex mu_;
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
      options_(std::move(options)) {}

Controller::~Controller() { Stop(); }

std::vector<std::string> Controller::Roots() const {
  std::vector<std::string> roots = options_.extra_roots;
  std::string p = cache_->PathFor(std::string(64, '0'));
  roots.push_back(p.substr(0, p.rfind('/')));
  return roots;
}

void Controller::AddEvent(const std::string& type, const std::string& object,
                          const std::string& reason, const std::string& message) {
  events_.Add({Unix(clock_), type, object, reason, message});
}

Result<std::shared_ptr<const specs::Snapshot>> Controller::SnapshotAt(
    const std::string& rev, std::optional<Trigger>* trigger) {
  if (!rev.empty()) {
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
    for (const auto& d : inv.diagnostics) ss.spec_errors.push_back(d.ToString());
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!ss.spec_errors.empty() && source_status_.spec_errors != ss.spec_errors) {
      AddEvent(
          "Warning", "source", "SpecInvalid",
          "revision " + ss.revision.substr(0, 12) + " is invalid; staying on " +
              (ss.last_valid_revision.empty() ? "nothing" : ss.last_valid_revision.substr(0, 12)));
    }
    source_status_ = ss;
  }
  if (st.newest_valid.empty()) {
    return Status::Invalid("no valid revision on branch " + st.branch +
                           (ss.spec_errors.empty() ? "" : ":\n" + ss.spec_errors.front()));
  }
  return source_->Load(st.newest_valid);
}

Result<PassResult> Controller::RunPass(bool execute, const std::string& rev) {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
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

  ObserveOptions oo;
  oo.our_roots = Roots();
  oo.agent = options_.agent;
  std::vector<Observation> obs(inventory.size());
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inventory.size(); ++i) {
      bool selected = pass.desired.state.vms.count(inventory[i].key) > 0;
      if (!selected) {  // never touched: not even its agent channel
        obs[i].info = inventory[i];
        obs[i].vm = ObservedFromInfo(inventory[i], oo.our_roots);
        continue;
      }
      threads.emplace_back([&, i] { obs[i] = Observe(*provider_, inventory[i], oo); });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<ObservedVm> observed;
  auto now = clock_->Now();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Observation& o : obs) {
      bool disc = std::any_of(o.vm.drives.begin(), o.vm.drives.end(),
                              [](const ObservedDrive& d) { return !d.our_bundle.empty(); });
      if (disc) {
        auto [it, inserted] = disc_seen_.emplace(o.vm.key, now);
        o.vm.disc_overdue =
            now - it->second > ApplyTimeout(pass.desired, o.vm.key, options_.overdue_margin);
      } else {
        disc_seen_.erase(o.vm.key);
      }
      auto r = retry_after_.find(o.vm.key);
      o.vm.retry_backoff = r != retry_after_.end() && now < r->second;
      observed.push_back(o.vm);
    }
  }
  pass.plan = MakePlan(pass.desired.state, observed, {options_.retry_failed});

  if (execute) {
    ReleaseStalePins(observed);
    {
      // A trigger that led this pass to a new revision starts its clock
      // towards the first insert; one that found nothing new is spent.
      std::lock_guard<std::mutex> l(mu_);
      if (pass.plan.revision != last_revision_ && trigger) {
        awaiting_first_insert_ = Trigger{trigger->reason, trigger->at, pass.plan.revision};
      }
      last_revision_ = pass.plan.revision;
    }
    // "apply" right after an insert: the moment the first disc went in.
    ProgressFn progress = [this](const std::string& vm, const std::string& step,
                                 const std::string& detail) {
      if (step == "apply") NoteApplySent(vm);
      if (options_.progress) options_.progress(vm, step, detail);
    };
    CacheImages images(cache_, snap, &pass.desired, Roots(),
                       [this](const std::string& d, bool built) {
                         if (built) {
                           std::lock_guard<std::mutex> l(mu_);
                           ++counters_.iso_builds_total;
                           AddEvent("Normal", "bundle/" + d.substr(0, 12), "Built", "image built");
                         }
                         if (options_.progress)
                           options_.progress("-", built ? "build" : "reuse", d.substr(0, 12));
                       });
    std::vector<std::thread> threads;
    std::mutex result_mu;
    for (size_t i = 0; i < pass.plan.vms.size(); ++i) {
      const VmPlan& vp = pass.plan.vms[i];
      if (!Actionable(vp)) continue;
      Observation* ob = nullptr;
      for (Observation& o : obs) {
        if (o.vm.key == vp.key) ob = &o;
      }
      if (!ob) continue;
      ++pass.executed;
      threads.emplace_back([&, ob, &vp = pass.plan.vms[i]] {
        auto res = Execute(vp, *provider_, ob->agent.get(), images,
                           ApplyTimeout(pass.desired, vp.key, options_.exec.apply_margin),
                           options_.exec, progress);
        std::lock_guard<std::mutex> l(mu_);
        if (!res.ok()) {
          std::lock_guard<std::mutex> rl(result_mu);
          ++pass.errors;
          ++counters_.reconcile_errors_total;
          AddEvent("Warning", "vm/" + vp.name, "StepFailed", res.status().message());
          if (options_.progress) options_.progress(vp.name, "error", res.status().message());
          return;
        }
        counters_.inserts_total += res->inserts;
        counters_.ejects_total += res->ejects;
        if (res->applied) {
          ++counters_.applies_total[res->ok ? "ok" : "failed"];
          AddEvent(res->ok ? "Normal" : "Warning", "vm/" + vp.name,
                   res->ok ? "ApplySucceeded" : "ApplyFailed",
                   res->ok ? vp.op_id : vp.op_id + ": " + res->message);
          if (res->ok) {
            failures_.erase(vp.key);
            retry_after_.erase(vp.key);
          } else {
            int n = ++failures_[vp.key];
            auto delay = options_.backoff_base * (1 << std::min(n - 1, 10));
            if (delay > options_.backoff_max) delay = options_.backoff_max;
            std::mt19937 rng(std::hash<std::string>()(vp.key) + n);
            auto jitter = std::chrono::milliseconds(rng() % 1000);
            retry_after_[vp.key] = clock_->Now() + delay + jitter;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
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
  WriteStatus(pass, obs);
  return pass;
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

void Controller::WriteStatus(const PassResult& pass, const std::vector<Observation>& obs) {
  FleetStatus fs;
  fs.generated_unix = Unix(clock_);
  std::lock_guard<std::mutex> l(mu_);
  for (const VmPlan& p : pass.plan.vms) {
    VmStatus v;
    v.key = p.key;
    v.name = p.name;
    v.host = p.host;
    for (const Observation& o : obs) {
      if (o.vm.key != p.key) continue;
      v.power = o.vm.power;
      v.labels = o.vm.labels;
      for (const ObservedDrive& d : o.vm.drives) {
        if (!d.our_bundle.empty()) v.disc_inserted = d.our_bundle;
      }
      if (o.vm.op && o.vm.op->running) v.operation_id = o.vm.op->op_id;
    }
    v.sets = p.sets;
    v.condition = p.condition;
    v.reason = p.reason;
    v.message = p.message;
    v.payloads = p.payloads;
    v.bundle_digest = p.bundle_digest;
    v.revision = pass.plan.revision;
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
  fs.sets = pass.plan.sets;
  fs.source = source_status_;
  fs.counters = counters_;
  if (auto b = cache_->TotalBytes(); b.ok()) fs.iso_cache_bytes = *b;
  fs.events = events_.Snapshot();
  status_ = std::move(fs);
  ready_ = true;
}

Result<PassResult> Controller::RunUntilConverged(std::chrono::steady_clock::time_point deadline,
                                                 const std::string& rev) {
  for (;;) {
    GITDISC_ASSIGN_OR_RETURN(PassResult pass, RunPass(/*execute=*/true, rev));
    if (pass.converged) {
      // One more observation: the eject of the last pass must show, and the
      // ledgers must confirm (the plan of a fresh pass is in sync).
      return pass;
    }
    if (pass.stuck) return pass;
    if (clock_->Now() >= deadline) return pass;
    if (pass.executed == 0) std::this_thread::sleep_for(options_.idle_poll);
  }
}

FleetStatus Controller::Status() const {
  std::lock_guard<std::mutex> l(mu_);
  FleetStatus s = status_;
  s.events = events_.Snapshot();
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
  std::lock_guard<std::mutex> l(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Controller::Loop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
      wake_ = false;
    }
    auto pass = RunPass(/*execute=*/true);
    if (!pass.ok()) {
      AddEvent("Warning", "controller", "PassFailed", pass.status().message());
    }
    bool busy = pass.ok() && pass->executed > 0;
    std::unique_lock<std::mutex> l(mu_);
    if (stop_) return;
    if (busy) continue;
    cv_.wait_for(
        l,
        std::chrono::duration_cast<std::chrono::milliseconds>(
            pass.ok() && !pass->converged ? std::chrono::milliseconds(options_.backoff_base)
                                          : std::chrono::milliseconds(options_.resync_interval)),
        [this] { return stop_ || wake_; });
  }
}

}  // namespace gitdisc::reconciler
