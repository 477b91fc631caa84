#include "reconciler/planner.h"

#include <algorithm>
#include <set>

#include "base/sha256.h"

namespace gitdisc::reconciler {
namespace {

bool IsFailure(const std::string& result) {
  return result == "failed" || result == "timeout" || result == "refused";
}

// Per-VM facts the set tallies and the decision share.
struct VmFacts {
  const ObservedVm* obs = nullptr;
  const DesiredVm* want = nullptr;      // null: not selected
  std::vector<std::string> missing;     // desired names not applied (ok at digest)
  std::set<std::string> failed;         // missing names with a failed run at the digest
  std::set<std::string> have_other;     // missing names the ledger holds at another digest
  std::vector<std::string> our_drives;  // drives holding our discs
  bool disc_in = false;
  bool op_running = false;
  std::set<std::string> failed_ops;  // op ids of the failed runs of missing payloads
  bool ready() const { return want && !want->conflict && missing.empty(); }
};

VmFacts Facts(const ObservedVm& o, const DesiredVm* want) {
  VmFacts f;
  f.obs = &o;
  f.want = want;
  for (const ObservedDrive& d : o.drives) {
    if (!d.our_bundle.empty()) {
      f.our_drives.push_back(d.target);
      f.disc_in = true;
    }
  }
  f.op_running = o.agent_reachable && o.op && o.op->running;
  if (!want) return f;
  for (const DesiredPayload& p : want->payloads) {
    bool ok = false, failed = false, other = false;
    std::set<std::string> failed_ops;
    for (const LedgerRecord& r : o.ledger) {
      if (r.payload != p.name) continue;
      if (r.digest == p.digest) {
        if (r.result == "ok") ok = true;
        if (IsFailure(r.result)) {
          failed = true;
          failed_ops.insert(r.op_id);
        }
      } else if (r.result == "ok") {
        other = true;
      }
    }
    if (ok) continue;
    f.missing.push_back(p.name);
    if (failed) f.failed.insert(p.name);
    if (other) f.have_other.insert(p.name);
    f.failed_ops.insert(failed_ops.begin(), failed_ops.end());
  }
  return f;
}

struct SetTally {
  const DesiredSet* set = nullptr;
  std::vector<std::string> selected;  // names, sorted
  std::set<std::string> canaries;
  bool canaries_ready = true;
  int ready = 0, failed = 0, in_flight = 0;
  int limit = 1;
  bool halted() const { return failed > set->rollout.max_failures; }
};

bool VmFailedInSet(const VmFacts& f, const DesiredSet& s) {
  for (const std::string& name : f.failed) {
    if (s.payload_digests.count(name)) return true;
  }
  return false;
}

}  // namespace

const char* PlanKindName(PlanKind k) {
  switch (k) {
    case PlanKind::kSkip:
      return "skip";
    case PlanKind::kInSync:
      return "in-sync";
    case PlanKind::kInstall:
      return "install";
    case PlanKind::kUpgrade:
      return "upgrade";
    case PlanKind::kRetry:
      return "retry";
    case PlanKind::kFollow:
      return "follow";
    case PlanKind::kBlocked:
      return "blocked";
  }
  return "?";
}

std::string OperationId(const std::string& vm_key, const std::string& bundle_digest,
                        const std::vector<std::string>& payloads, const std::string& retry_of) {
  std::string in = "gitdisc-op/1\n" + vm_key + "\n" + bundle_digest + "\n";
  for (const std::string& p : payloads) in += p + ",";
  if (!retry_of.empty()) in += "\nretry-of " + retry_of;
  return "op-" + Sha256Hex(in).substr(0, 16);
}

std::string OurBundleFromSource(const std::string& source, const std::vector<std::string>& roots) {
  auto slash = source.rfind('/');
  if (slash == std::string::npos) return "";
  std::string dir = source.substr(0, slash);
  std::string base = source.substr(slash + 1);
  if (base.size() == 68 && base.compare(64, 4, ".iso") == 0) base.resize(64);
  if (!IsSha256Hex(base)) return "";
  for (std::string root : roots) {
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    // "[*] gitdisc": that folder on any vSphere datastore ("[DS] gitdisc").
    bool any_datastore = root.rfind("[*] ", 0) == 0 && dir.rfind('[', 0) == 0 &&
                         dir.find("] ") != std::string::npos &&
                         dir.substr(dir.find("] ") + 2) == root.substr(4);
    if (!root.empty() && (dir == root || any_datastore)) {
      std::transform(base.begin(), base.end(), base.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      return base;
    }
  }
  return "";
}

int Plan::Pending() const {
  int n = 0;
  for (const VmPlan& v : vms) {
    if (v.kind == PlanKind::kSkip) continue;
    if (v.kind != PlanKind::kInSync || !v.eject_drives.empty()) ++n;
  }
  return n;
}

bool Plan::InSync() const { return Pending() == 0; }

const VmPlan* Plan::Find(const std::string& key) const {
  for (const VmPlan& v : vms) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

Plan MakePlan(const DesiredState& desired, const std::vector<ObservedVm>& observed,
              const PlanOptions& options) {
  Plan plan;
  plan.revision = desired.revision;

  std::vector<const ObservedVm*> order;
  for (const ObservedVm& o : observed) order.push_back(&o);
  std::sort(order.begin(), order.end(), [](const ObservedVm* a, const ObservedVm* b) {
    return a->name != b->name ? a->name < b->name : a->key < b->key;
  });

  std::vector<VmFacts> facts;
  for (const ObservedVm* o : order) {
    auto it = desired.vms.find(o->key);
    const DesiredVm* want =
        (it != desired.vms.end() && !it->second.sets.empty()) ? &it->second : nullptr;
    facts.push_back(Facts(*o, want));
  }

  // Rollout tallies, derived from what was observed.
  std::map<std::string, SetTally> tallies;
  for (const auto& [name, s] : desired.sets) tallies[name].set = &s;
  for (const VmFacts& f : facts) {
    if (!f.want) continue;
    for (const std::string& sn : f.want->sets) {
      auto it = tallies.find(sn);
      if (it == tallies.end()) continue;
      SetTally& t = it->second;
      t.selected.push_back(f.obs->name);
      if (f.ready()) ++t.ready;
      if (VmFailedInSet(f, *t.set)) ++t.failed;
      if (f.disc_in || f.op_running) ++t.in_flight;
    }
  }
  for (auto& [name, t] : tallies) {
    int n = static_cast<int>(t.selected.size());
    t.limit = std::max(1, t.set->rollout.max_parallel.Resolve(n));
    for (int i = 0; i < std::min(t.set->rollout.canary, n); ++i) t.canaries.insert(t.selected[i]);
  }
  for (const VmFacts& f : facts) {
    if (!f.want) continue;
    for (const std::string& sn : f.want->sets) {
      auto it = tallies.find(sn);
      if (it != tallies.end() && it->second.canaries.count(f.obs->name) && !f.ready()) {
        it->second.canaries_ready = false;
      }
    }
  }

  for (const VmFacts& f : facts) {
    const ObservedVm& o = *f.obs;
    VmPlan p;
    p.key = o.key;
    p.name = o.name;
    p.host = o.host;
    auto block = [&p](VmCondition c, std::string reason, std::string message) {
      p.kind = PlanKind::kBlocked;
      p.condition = c;
      p.reason = std::move(reason);
      p.message = std::move(message);
    };
    if (!f.want) {
      p.kind = PlanKind::kSkip;
      p.condition = VmCondition::kNotSelected;
      p.reason = "NotSelected";
      p.message = "no PayloadSet selects this VM";
      plan.vms.push_back(std::move(p));
      continue;
    }
    const DesiredVm& w = *f.want;
    p.sets = w.sets;
    p.bundle_digest = w.bundle_digest;
    for (const DesiredPayload& d : w.payloads) {
      PayloadStatus ps{d.name, d.version, d.digest, PayloadState::kApplied, ""};
      if (std::find(f.missing.begin(), f.missing.end(), d.name) != f.missing.end()) {
        ps.state = f.op_running             ? PayloadState::kApplying
                   : f.failed.count(d.name) ? PayloadState::kFailed
                                            : PayloadState::kPending;
      }
      p.payloads.push_back(std::move(ps));
    }
    p.counts_in_flight = f.disc_in || f.op_running;
    for (const std::string& sn : w.sets) {
      auto it = tallies.find(sn);
      if (it != tallies.end() && VmFailedInSet(f, *it->second.set)) p.counts_failed = true;
    }
    // Our leftover discs may be ejected whenever the agent answers and runs nothing.
    auto eject_leftovers = [&] {
      if (o.agent_reachable && !f.op_running) p.eject_drives = f.our_drives;
    };

    if (!o.has_agent_channel) {
      // Whatever its state: no agent can ever answer, so nothing is waited for.
      block(VmCondition::kNotManageable, "NoAgentChannel",
            std::string("the domain defines no virtio-serial channel org.gitdisc.agent.0 "
                        "(gitdisc vm prepare ") +
                o.name + " adds it)");
    } else if (!o.running) {
      block(VmCondition::kPending, "NotRunning", "the VM is " + o.power);
    } else if (!o.agent_reachable) {
      if (o.agent_misbehaving.empty()) {
        block(VmCondition::kAgentUnavailable, "AgentUnavailable",
              "the agent does not answer" + (o.agent_error.empty() ? "" : ": " + o.agent_error));
      } else {
        // Reason: the bound it broke. Like an agent that is gone, except that
        // the controller does not talk to it until its backoff is over.
        block(VmCondition::kAgentMisbehaving, o.agent_misbehaving,
              "the agent was cut off: " + o.agent_error);
      }
      if (f.disc_in && o.disc_overdue) {
        // The agent is gone and the apply's timeout has passed: nothing can
        // still be reading the disc we inserted.
        p.eject_drives = f.our_drives;
        p.force_eject = true;
        p.reason = "EjectAfterTimeout";
      }
    } else if (f.op_running) {
      p.kind = PlanKind::kFollow;
      p.condition = VmCondition::kProgressing;
      p.reason = "Applying";
      p.message = "operation " + o.op->op_id + " is running";
      p.op_id = o.op->op_id;
      p.apply = f.missing;
    } else if (f.disc_in && o.op && !o.op->running && !o.op->disc_released) {
      // Finished without releasing the drive: wait, then force after the timeout.
      block(VmCondition::kProgressing, "WaitingForRelease",
            "operation " + o.op->op_id + " finished but the disc is not released yet");
      p.op_id = o.op->op_id;
      if (o.disc_overdue) {
        p.eject_drives = f.our_drives;
        p.force_eject = true;
      }
    } else if (w.conflict) {
      block(VmCondition::kConflict, "Conflict", w.conflict_message);
      eject_leftovers();
    } else if (f.missing.empty()) {
      p.kind = PlanKind::kInSync;
      p.condition = VmCondition::kReady;
      p.reason = "Applied";
      p.message = "every desired payload is applied";
      eject_leftovers();
      p.counts_in_flight = false;
    } else if (o.drives.empty() && o.other_delivery.empty()) {
      // Work to do, and no way to deliver it: a property of the VM, not of
      // the moment.
      block(VmCondition::kNotManageable, "NoDeliveryMethod",
            "no CD-ROM drive on a bus with a tray (IDE, SATA, SCSI) and no other delivery "
            "method (gitdisc vm prepare " +
                o.name + " adds a drive)");
    } else {
      // Work to do: the rollout of every set that asks for a missing payload decides.
      std::vector<SetTally*> relevant;
      for (const std::string& sn : w.sets) {
        auto it = tallies.find(sn);
        if (it == tallies.end()) continue;
        bool asks = false;
        for (const std::string& m : f.missing) asks |= it->second.set->payload_digests.count(m) > 0;
        if (asks) relevant.push_back(&it->second);
      }
      const bool failed_here = !f.failed.empty();
      std::string gate_reason, gate_msg;
      VmCondition gate = VmCondition::kUnknown;
      for (SetTally* t : relevant) {
        if (t->set->suspend) {
          gate = VmCondition::kSuspended;
          gate_reason = "Suspended";
          gate_msg = "set " + t->set->name + " is suspended";
          break;
        }
        if (t->halted()) {
          gate = VmCondition::kHalted;
          gate_reason = "RolloutHalted";
          gate_msg = "set " + t->set->name + " is halted: " + std::to_string(t->failed) +
                     " failed VM(s) > maxFailures " + std::to_string(t->set->rollout.max_failures);
          break;
        }
      }
      if (gate == VmCondition::kUnknown && failed_here &&
          (!options.retry_failed || o.retry_backoff)) {
        gate = VmCondition::kFailed;
        gate_reason = "ApplyFailed";
        gate_msg = "the last apply of ";
        for (const std::string& n : f.failed) gate_msg += n + " ";
        gate_msg += "failed";
        if (options.retry_failed && o.retry_scheduled) {
          p.retry_scheduled = true;
          gate_msg += "; retried after its backoff";
        }
      }
      if (gate == VmCondition::kHalted && failed_here) {
        gate = VmCondition::kFailed;
        gate_reason = "ApplyFailed";
        gate_msg = "apply failed; " + gate_msg;
      }
      if (gate == VmCondition::kUnknown) {
        for (SetTally* t : relevant) {
          if (!t->canaries.empty() && !t->canaries.count(o.name) && !t->canaries_ready) {
            gate = VmCondition::kWaiting;
            gate_reason = "CanaryPending";
            gate_msg = "waiting for the canaries of set " + t->set->name;
            break;
          }
          if (!p.counts_in_flight && t->in_flight >= t->limit) {
            gate = VmCondition::kWaiting;
            gate_reason = "MaxParallel";
            gate_msg = "set " + t->set->name + " has " + std::to_string(t->in_flight) +
                       " VM(s) in flight (maxParallel " + std::to_string(t->limit) + ")";
            break;
          }
        }
      }
      // Drives: reuse our disc with this bundle; eject our stale discs; else an empty drive.
      std::string reuse, empty;
      std::vector<std::string> stale;
      for (const ObservedDrive& d : o.drives) {
        if (!d.our_bundle.empty()) {
          if (d.our_bundle == w.bundle_digest && reuse.empty()) {
            reuse = d.target;
          } else {
            stale.push_back(d.target);
          }
        } else if (d.source.empty() && empty.empty()) {
          empty = d.target;
        }
      }
      if (gate == VmCondition::kUnknown && reuse.empty() && empty.empty() && stale.empty()) {
        gate = VmCondition::kDriveBusy;
        gate_reason = "NoFreeDrive";
        gate_msg = o.drives.empty() ? "the VM has no CD-ROM drive"
                                    : "every CD-ROM drive holds media gitdisc did not insert";
      }
      if (gate != VmCondition::kUnknown) {
        block(gate, gate_reason, gate_msg);
        eject_leftovers();
      } else {
        p.kind = failed_here             ? PlanKind::kRetry
                 : !f.have_other.empty() ? PlanKind::kUpgrade
                                         : PlanKind::kInstall;
        p.condition = VmCondition::kProgressing;
        p.reason = PlanKindName(p.kind);
        p.reason[0] = static_cast<char>(std::toupper(p.reason[0]));
        p.apply = f.missing;
        p.eject_drives = stale;
        p.insert_drive = reuse.empty() ? (empty.empty() ? stale.front() : empty) : "";
        std::string retry_of;
        for (const std::string& id : f.failed_ops) retry_of += (retry_of.empty() ? "" : ",") + id;
        p.op_id = OperationId(o.key, w.bundle_digest, f.missing, retry_of);
        p.message = std::string(PlanKindName(p.kind)) + " of";
        for (const std::string& n : f.missing) p.message += " " + n;
        if (!p.counts_in_flight) {
          for (SetTally* t : relevant) ++t->in_flight;
        }
        p.counts_in_flight = true;
      }
    }
    plan.vms.push_back(std::move(p));
  }

  for (auto& [name, t] : tallies) {
    SetStatus s;
    s.name = name;
    s.selected = t.selected;
    s.content_digest = t.set->content_digest;
    s.ready = t.ready;
    s.failed = t.failed;
    for (const VmPlan& v : plan.vms) {
      if (std::find(v.sets.begin(), v.sets.end(), name) == v.sets.end()) continue;
      if (v.counts_in_flight) ++s.in_flight;
    }
    s.pending = std::max(0, static_cast<int>(t.selected.size()) - s.ready - s.in_flight - s.failed);
    if (t.set->suspend) {
      s.rollout = RolloutState::kSuspended;
      s.message = "suspended by its spec";
    } else if (t.halted()) {
      s.rollout = RolloutState::kHalted;
      s.message = std::to_string(t.failed) + " failed VM(s) > maxFailures " +
                  std::to_string(t.set->rollout.max_failures) +
                  "; halted until a revision changes this set";
    } else if (t.ready == static_cast<int>(t.selected.size())) {
      s.rollout = RolloutState::kComplete;
      s.message = std::to_string(t.ready) + "/" + std::to_string(t.selected.size()) + " ready";
    } else {
      s.rollout = RolloutState::kProgressing;
      s.message = std::to_string(t.ready) + "/" + std::to_string(t.selected.size()) + " ready, " +
                  std::to_string(s.in_flight) + " in flight";
    }
    plan.sets.push_back(std::move(s));
  }
  return plan;
}

}  // namespace gitdisc::reconciler
