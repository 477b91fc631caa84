#include "reconciler/status_writer.h"

#include <utility>

namespace gitdisc::reconciler {

int64_t UnixNow(const Clock* clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock->WallNow().time_since_epoch())
      .count();
}

StatusWriter::StatusWriter(const Clock* clock, iso::IsoCache* cache)
    : clock_(clock), cache_(cache) {}

void StatusWriter::AddEvent(const std::string& type, const std::string& object,
                            const std::string& reason, const std::string& message) {
  events_.Add({UnixNow(clock_), type, object, reason, message});
}

namespace {

bool Warns(VmCondition c) {
  return c == VmCondition::kFailed || c == VmCondition::kHalted || c == VmCondition::kDriveBusy ||
         c == VmCondition::kAgentMisbehaving || c == VmCondition::kNotManageable;
}

}  // namespace

void StatusWriter::Write(const Plan& plan, const std::map<std::string, ObservedVm>& observed,
                         const std::map<std::string, std::string>& executing) {
  std::lock_guard<std::mutex> l(mu_);
  FleetStatus fs;
  fs.generated_unix = UnixNow(clock_);
  for (const VmPlan& p : plan.vms) {
    VmStatus v;
    v.key = p.key;
    v.name = p.name;
    v.host = p.host;
    if (auto o = observed.find(p.key); o != observed.end()) {
      v.power = o->second.power;
      v.labels = o->second.labels;
      for (const ObservedDrive& d : o->second.drives) {
        if (!d.our_bundle.empty()) v.disc_inserted = d.our_bundle;
      }
      if (o->second.op && o->second.op->running) v.operation_id = o->second.op->op_id;
    }
    if (auto ex = executing.find(p.key); ex != executing.end()) v.operation_id = ex->second;
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
        AddEvent(Warns(p.condition) ? "Warning" : "Normal", "vm/" + p.name,
                 VmConditionName(p.condition), p.message);
      }
    } else {
      for (const VmStatus& old : status_.vms) {
        if (old.key == p.key) v.last_transition_unix = old.last_transition_unix;
      }
    }
    fs.vms.push_back(std::move(v));
  }
  fs.sets = plan.sets;
  status_ = std::move(fs);
  ready_ = true;
}

void StatusWriter::RefreshCacheBytes() {
  auto b = cache_->TotalBytes();
  if (!b.ok()) return;
  std::lock_guard<std::mutex> l(mu_);
  cache_bytes_ = *b;
}

void StatusWriter::SetSource(SourceStatus ss) {
  std::lock_guard<std::mutex> l(mu_);
  const std::string staying =
      "; staying on " +
      (ss.last_valid_revision.empty() ? "nothing" : ss.last_valid_revision.substr(0, 12));
  if (!ss.spec_errors.empty() && source_.spec_errors != ss.spec_errors) {
    AddEvent("Warning", "source", "SpecInvalid",
             "revision " + ss.revision.substr(0, 12) + " is invalid" + staying);
  }
  if (!ss.unverified_revision.empty() && source_.unverified_revision != ss.unverified_revision) {
    AddEvent("Warning", "source", "SignatureUnverified",
             "revision " + ss.unverified_revision.substr(0, 12) + " is not verified (commit " +
                 ss.unverified_commit.substr(0, 12) + ": " + ss.unverified_reason + ")" + staying);
  }
  source_ = std::move(ss);
}

void StatusWriter::CountPass(double seconds) {
  std::lock_guard<std::mutex> l(mu_);
  ++counters_.reconciles_total;
  counters_.reconcile_seconds_sum += seconds;
}

void StatusWriter::CountBuild(const std::string& digest) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_.iso_builds_total;
  }
  AddEvent("Normal", "bundle/" + digest.substr(0, 12), "Built", "image built");
}

void StatusWriter::CountStepError() {
  std::lock_guard<std::mutex> l(mu_);
  ++counters_.reconcile_errors_total;
}

void StatusWriter::CountSteps(int inserts, int ejects) {
  std::lock_guard<std::mutex> l(mu_);
  counters_.inserts_total += inserts;
  counters_.ejects_total += ejects;
}

void StatusWriter::CountApply(bool ok) {
  std::lock_guard<std::mutex> l(mu_);
  ++counters_.applies_total[ok ? "ok" : "failed"];
}

FleetStatus StatusWriter::Status() const {
  std::lock_guard<std::mutex> l(mu_);
  FleetStatus s = status_;
  s.source = source_;
  s.counters = counters_;
  s.iso_cache_bytes = cache_bytes_;
  s.events = events_.Snapshot(&s.events_total);
  return s;
}

bool StatusWriter::Ready() const {
  std::lock_guard<std::mutex> l(mu_);
  return ready_;
}

}  // namespace gitdisc::reconciler
