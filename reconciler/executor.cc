#include "reconciler/executor.h"

#include <algorithm>
#include <thread>

namespace gitdisc::reconciler {

Result<int> EjectOurDiscs(Provider& provider, const std::string& key,
                          const std::vector<std::string>& roots, bool force_now,
                          const ExecOptions& options, const ProgressFn& progress,
                          const std::vector<std::string>& only_drives) {
  GITDISC_ASSIGN_OR_RETURN(VmInfo info, provider.GetVm(key));
  int ejected = 0;
  for (const DriveInfo& d : info.cdroms) {
    std::string ours = OurBundleFromSource(d.source, roots);
    if (ours.empty()) continue;  // empty, or not ours: never touched
    if (!only_drives.empty() &&
        std::find(only_drives.begin(), only_drives.end(), d.target) == only_drives.end()) {
      continue;
    }
    Status st = Status::Timeout("not tried");
    for (int i = 0; !force_now && i < options.eject_attempts; ++i) {
      st = provider.EjectMedia(key, d.target, d.source, /*force=*/false);
      if (st.ok() || !st.transient()) break;
      std::this_thread::sleep_for(options.eject_retry_delay);
    }
    if (!st.ok() && (force_now || st.transient())) {
      if (progress) progress(info.name, "eject", d.target + " (forced)");
      st = provider.EjectMedia(key, d.target, d.source, /*force=*/true);
    }
    if (!st.ok()) return st.Annotate("eject " + d.target + " of " + info.name);
    if (progress) progress(info.name, "ejected", d.target + " " + ours.substr(0, 12));
    ++ejected;
  }
  return ejected;
}

Result<ExecResult> Execute(const VmPlan& plan, Provider& provider, guest::AgentClient* agent,
                           ImageSource& images, std::chrono::seconds apply_timeout,
                           const ExecOptions& options, const ProgressFn& progress) {
  ExecResult out;
  auto say = [&](const std::string& step, const std::string& detail) {
    if (progress) progress(plan.name, step, detail);
  };
  if (!plan.eject_drives.empty()) {
    GITDISC_ASSIGN_OR_RETURN(
        int n, EjectOurDiscs(provider, plan.key, images.Roots(), plan.force_eject, options,
                             progress, plan.eject_drives));
    out.ejects += n;
  }
  const bool starts = plan.kind == PlanKind::kInstall || plan.kind == PlanKind::kUpgrade ||
                      plan.kind == PlanKind::kRetry;
  if (!starts && plan.kind != PlanKind::kFollow) return out;
  if (!agent) return Status::Unavailable("no agent connection to " + plan.name);

  if (starts) {
    GITDISC_ASSIGN_OR_RETURN(std::string local, images.Ensure(plan.bundle_digest, plan.key));
    GITDISC_ASSIGN_OR_RETURN(std::string host_path,
                             provider.PrepareImage(plan.host, local, plan.bundle_digest));
    if (!plan.insert_drive.empty()) {
      say("insert", plan.insert_drive + " " + plan.bundle_digest.substr(0, 12));
      Status st = provider.InsertMedia(plan.key, plan.insert_drive, host_path);
      if (!st.ok()) {
        images.Release(plan.bundle_digest, plan.key);
        return st.Annotate("insert into " + plan.insert_drive + " of " + plan.name);
      }
      ++out.inserts;
    }
    std::string names;
    for (const std::string& n : plan.apply) names += (names.empty() ? "" : ",") + n;
    say("apply", plan.op_id + " " + names);
    auto accepted = agent->Apply(plan.op_id, plan.bundle_digest, plan.apply);
    if (!accepted.ok()) return accepted.status().Annotate("apply on " + plan.name);
  } else {
    say("follow", plan.op_id);
  }

  auto deadline = std::chrono::steady_clock::now() + apply_timeout;
  auto done = agent->WaitForDone(plan.op_id, deadline, [&](const guest::AgentMessage& m) {
    if (auto* r = std::get_if<guest::ResultEvent>(&m)) {
      say("result", r->result.payload + " " + guest::OutcomeName(r->result.result));
    }
  });
  if (!done.ok()) return done.status().Annotate("follow " + plan.op_id + " on " + plan.name);
  out.applied = true;
  for (const guest::PayloadResult& r : done->results) {
    if (r.result != guest::Outcome::kOk && r.result != guest::Outcome::kSkipped) {
      out.ok = false;
      if (!out.message.empty()) out.message += "; ";
      out.message += r.payload + " " + guest::OutcomeName(r.result) + " (exit " +
                     std::to_string(r.exit_code) + ")";
    }
    if (r.result == guest::Outcome::kSkipped) out.ok = false;
  }
  if (!done->message.empty() && !out.ok)
    out.message += (out.message.empty() ? "" : ": ") + done->message;
  say("done", out.ok ? std::string("ok") : "failed: " + out.message);
  if (done->disc_released) {
    GITDISC_ASSIGN_OR_RETURN(
        int n, EjectOurDiscs(provider, plan.key, images.Roots(), false, options, progress));
    out.ejects += n;
    images.Release(plan.bundle_digest, plan.key);
  }
  return out;
}

}  // namespace gitdisc::reconciler
