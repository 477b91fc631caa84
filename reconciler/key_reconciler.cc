#include "reconciler/key_reconciler.h"

#include <cstdio>
#include <functional>
#include <random>
#include <utility>

#include "reconciler/cache_images.h"

namespace gitdisc::reconciler {

KeyReconciler::KeyReconciler(ControllerParts parts, Options options)
    : p_(parts), options_(std::move(options)) {}

Observation KeyReconciler::ObserveNow(const VmInfo& info,
                                      std::unique_ptr<guest::AgentClient> agent) {
  ObserveOptions oo = options_.observe;
  oo.deadline = std::chrono::steady_clock::now() + options_.observe_timeout;
  return p_.guard->Observe(*p_.provider, info, oo, std::move(agent));
}

KeyReconciler::Result KeyReconciler::Reconcile(const std::string& key, bool queue_next) {
  Result out;
  p_.state->Hold(key);
  struct Unholder {
    FleetState* state;
    const std::string& key;
    ~Unholder() { state->Unhold(key); }
  } unhold{p_.state, key};
  if (!p_.state->HasView()) return out;  // no scan yet: it will queue what needs work
  auto info = p_.provider->GetVm(key);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) {
      p_.state->Forget(key);
      return out;
    }
    out.status = info.status();
    out.requeue_after =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.backoff_base);
    return out;
  }
  uint64_t seq = p_.state->NextSeq();
  Observation ob = ObserveNow(*info);

  FleetState::KeyStart start = p_.state->BeginKey(key, ob.vm, seq);
  if (start.new_vm && options_.wants_scan) options_.wants_scan();
  if (!start.found) return out;
  if (!start.act) {
    if (start.plan.condition == VmCondition::kAgentUnavailable) {
      // Perhaps still booting: look again, the way a failure would.
      out.requeue_after =
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.backoff_base);
    } else if (start.plan.condition == VmCondition::kAgentMisbehaving) {
      out.requeue_after = p_.guard->BackoffLeft(key);  // look again when it is over
    }
    return out;
  }
  const VmPlan& vp = start.plan;

  // "apply" right after an insert: the moment the first disc went in.
  ProgressFn progress = [this](const std::string& vm, const std::string& step,
                               const std::string& detail) {
    if (step == "apply") NoteApplySent(vm);
    if (options_.progress) options_.progress(vm, step, detail);
  };
  CacheImages images(&build_mu_, p_.cache, start.snap, start.desired.get(),
                     options_.observe.our_roots, [this](const std::string& d, bool built) {
                       if (built) p_.status->CountBuild(d);
                       if (options_.progress) {
                         options_.progress("-", built ? "build" : "reuse", d.substr(0, 12));
                       }
                     });
  auto res = Execute(vp, *p_.provider, ob.agent.get(), images,
                     ApplyTimeout(*start.desired, key, options_.exec.apply_margin), options_.exec,
                     progress);
  if (ob.agent && ob.agent->misbehaviour()) {
    p_.guard->Record(key, vp.name, *ob.agent->misbehaviour());
  }
  out.executed = true;
  out.requeue_after = RecordOutcome(vp, res);
  if (!res.ok()) out.status = res.status();

  // Re-read the VM (ledger, drives) so the view and the status show the
  // outcome, then let the rollout through to whoever waits for this one.
  seq = p_.state->NextSeq();
  auto after_info = p_.provider->GetVm(key);
  std::optional<ObservedVm> after;
  if (after_info.ok()) after = ObserveNow(*after_info, std::move(ob.agent)).vm;
  p_.state->EndKey(key, after, seq, queue_next);
  p_.status->RefreshCacheBytes();
  return out;
}

std::chrono::milliseconds KeyReconciler::Backoff(const std::string& key, int failures) const {
  auto delay = options_.backoff_base * (1 << std::min(failures - 1, 10));
  if (delay > options_.backoff_max) delay = options_.backoff_max;
  std::mt19937 rng(std::hash<std::string>()(key) + failures);
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay) +
         std::chrono::milliseconds(rng() % 1000);
}

std::optional<std::chrono::milliseconds> KeyReconciler::RecordOutcome(
    const VmPlan& vp, const gitdisc::Result<ExecResult>& res) {
  if (!res.ok()) {
    p_.state->CountExecuted(/*error=*/true);
    p_.status->CountStepError();
    p_.status->AddEvent("Warning", "vm/" + vp.name, "StepFailed", res.status().message());
    if (options_.progress) options_.progress(vp.name, "error", res.status().message());
    return Backoff(vp.key, 1);
  }
  p_.state->CountExecuted(/*error=*/false);
  p_.status->CountSteps(res->inserts, res->ejects);
  if (!res->applied) return std::nullopt;
  p_.status->CountApply(res->ok);
  p_.status->AddEvent(res->ok ? "Normal" : "Warning", "vm/" + vp.name,
                      res->ok ? "ApplySucceeded" : "ApplyFailed",
                      res->ok ? vp.op_id : vp.op_id + ": " + res->message);
  if (res->ok) {
    p_.state->ClearFailures(vp.key);
    return std::nullopt;
  }
  auto delay = Backoff(vp.key, p_.state->AddFailure(vp.key));
  if (!options_.retry_failed) {
    // Failed until a new revision or the next run: this run tried once.
    p_.state->SetRetryAfter(vp.key, Clock::TimePoint::max());
    return std::nullopt;
  }
  p_.state->SetRetryAfter(vp.key, p_.clock->Now() + delay);
  return delay;
}

void KeyReconciler::NoteApplySent(const std::string& vm) {
  std::optional<RevisionTracker::Trigger> t = p_.revisions->TakeFirstInsert();
  if (!t) return;
  double seconds = std::chrono::duration<double>(p_.clock->Now() - t->at).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  p_.status->AddEvent("Normal", "vm/" + vm, "FirstInsert",
                      "first disc of " + t->revision.substr(0, 12) + " in " + buf + " s after " +
                          t->reason);
  if (options_.first_insert) options_.first_insert(vm, t->revision, t->reason, seconds);
}

}  // namespace gitdisc::reconciler
