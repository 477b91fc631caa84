#include "reconciler/controller.h"

#include <algorithm>
#include <utility>

#include "reconciler/cache_images.h"

namespace gitdisc::reconciler {
namespace {

// Observations waiting for an observer: one per selected VM per scan, so a
// bound well above any one fleet (a VM past it keeps its last observation).
constexpr size_t kMaxQueuedObservations = 65536;

ObserveOptions ObserveWith(std::vector<std::string> roots, guest::AgentClient::Options agent) {
  ObserveOptions o;
  o.our_roots = std::move(roots);
  o.agent = agent;
  return o;
}

KeyReconciler::Options ReconcilerOptions(const ControllerOptions& o, ObserveOptions observe,
                                         std::function<void()> wants_scan) {
  KeyReconciler::Options k;
  k.observe = std::move(observe);
  k.observe_timeout = o.observe_timeout;
  k.exec = o.exec;
  k.retry_failed = o.retry_failed;
  k.backoff_base = o.backoff_base;
  k.backoff_max = o.backoff_max;
  k.progress = o.progress;
  k.first_insert = o.hooks.first_insert;
  k.wants_scan = std::move(wants_scan);
  return k;
}

Scanner::Options ScannerOptions(const ControllerOptions& o, ObserveOptions observe,
                                std::function<void()> late_reachable) {
  Scanner::Options s;
  s.observe = std::move(observe);
  s.observe_timeout = o.observe_timeout;
  s.scan_wait = o.scan_wait;
  s.late_reachable = std::move(late_reachable);
  s.pass_finished = o.hooks.pass_finished;
  return s;
}

}  // namespace

Controller::Controller(Provider* provider, specs::Source* source, iso::IsoCache* cache,
                       const Clock* clock, ControllerOptions options)
    : provider_(provider),
      cache_(cache),
      clock_(clock),
      options_(std::move(options)),
      roots_(OurImageRoots(*cache, options_.extra_roots)),
      status_(clock, cache),
      queue_(clock),
      revisions_(source, clock, &status_),
      guard_(clock, {options_.agent_backoff_base, options_.agent_backoff_max}, &status_),
      state_(clock,
             {options_.retry_failed || options_.retry_earlier_failures, options_.overdue_margin}, &status_, &queue_),
      reconciler_({provider, cache, clock, &revisions_, &state_, &guard_, &status_},
                  ReconcilerOptions(options_, ObserveWith(roots_, options_.agent), [this] { Wake(); })),
      observers_(options_.observers, kMaxQueuedObservations),
      scanner_({provider, cache, clock, &revisions_, &state_, &guard_, &status_}, &observers_,
               ScannerOptions(options_, ObserveWith(roots_, options_.agent), [this] {
                 Wake();
                 state_.Notify();
               })) {}

Controller::~Controller() {
  observers_.ShutDown();
  Stop();
  queue_.ShutDown();
  for (auto& w : workers_) w.join();
}

std::vector<std::string> Controller::Roots() const { return roots_; }

void Controller::Wake() {
  std::lock_guard<std::mutex> l(mu_);
  wake_ = true;
  cv_.notify_all();
}

bool Controller::Background() const {
  std::lock_guard<std::mutex> l(mu_);
  return background_;
}

Result<PassResult> Controller::ScanExecuting(const std::string& rev) {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  return scanner_.Scan(/*execute=*/true, rev);
}

Result<PassResult> Controller::RunPass(bool execute, const std::string& rev) {
  // A dry scan runs beside everything else (see the header).
  if (!execute) return scanner_.Scan(/*execute=*/false, rev);
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  FleetState::Executed before = state_.executed();
  GITDISC_ASSIGN_OR_RETURN(PassResult pass, scanner_.Scan(/*execute=*/true, rev));
  // The queued keys are worked on, and the pass is over when they are.
  StartWorkers();
  queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
  FleetState::Executed after = state_.executed();
  pass.executed = after.executed - before.executed;
  pass.errors = after.errors - before.errors;
  return pass;
}

Controller::ReconcileResult Controller::Reconcile(const std::string& key) {
  KeyReconciler::Result r = reconciler_.Reconcile(key, Background());
  return {std::move(r.status), r.requeue_after, r.executed};
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
    bool background = Background();
    KeyReconciler::Result r = reconciler_.Reconcile(*key, background);
    // Only the daemon looks again by itself; RunPass and RunUntilConverged
    // scan again instead.
    if (r.requeue_after && background) queue_.AddAfter(*key, *r.requeue_after);
    queue_.Done(*key);
    if (r.executed) state_.Notify();  // RunUntilConverged looks again as soon as a VM is done
  }
}

Result<PassResult> Controller::RunUntilConverged(std::chrono::steady_clock::time_point deadline,
                                                 const std::string& rev) {
  std::lock_guard<std::mutex> pass_lock(pass_mu_);
  StartWorkers();
  for (;;) {
    FleetState::Executed before = state_.executed();
    auto pass = scanner_.Scan(/*execute=*/true, rev);
    // converged and stuck count the VMs being worked on as moving, so both
    // mean that no worker is busy; the deadline lets running work finish.
    if (!pass.ok() || pass->converged || pass->stuck || clock_->Now() >= deadline) {
      queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
      if (!pass.ok() || clock_->Now() >= deadline) return pass;
      // A worker may have held a VM during that scan (a re-queued key being
      // looked at), so the scan neither observed it nor released its stale
      // pins: with every worker idle, one more scan sees every VM.
      auto last = scanner_.Scan(/*execute=*/true, rev);
      if (!last.ok() || last->converged || last->stuck) {
        queue_.WaitIdle(std::chrono::steady_clock::time_point::max());
        return last;
      }
      continue;
    }
    // Scan again as soon as a VM is done (its rollout may let others
    // through) or a late observation arrived, or after idle_poll when no
    // worker has anything to do (agents still booting).
    state_.WaitForProgress(before, options_.idle_poll, deadline);
  }
}

FleetStatus Controller::Status() const { return status_.Status(); }

void Controller::EnqueueAll(std::string_view reason) {
  status_.AddEvent("Normal", "controller", "Enqueued", std::string(reason));
  Wake();
}

void Controller::NotifySourceChanged(std::string_view reason) {
  status_.AddEvent("Normal", "source", "SourceChanged", std::string(reason));
  revisions_.NotifySourceChanged(reason);
  Wake();
}

void Controller::OnProviderEvent(const std::string& key, EventKind kind) {
  // Quick and without calls into the provider: this runs on its event thread.
  if (state_.Knows(key) && (kind == EventKind::kTrayChanged || kind == EventKind::kDiskChanged ||
                            kind == EventKind::kLifecycle)) {
    queue_.Add(key);
    return;
  }
  // New VMs, label changes and lost hosts change the desired state: a scan.
  Wake();
}

Result<nlohmann::json> Controller::PlanAt(const std::string& revision) {
  GITDISC_ASSIGN_OR_RETURN(PassResult pass, RunPass(/*execute=*/false, revision));
  return PlanToJson(pass.plan, pass.desired,
                    [this](const std::string& d) { return cache_->Contains(d); });
}

bool Controller::Ready() const { return status_.Ready(); }

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
    status_.AddEvent("Warning", "controller", "EventsUnavailable", st.message());
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
    Result<PassResult> pass = ScanExecuting("");
    if (!pass.ok()) {
      status_.AddEvent("Warning", "controller", "PassFailed", pass.status().message());
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
