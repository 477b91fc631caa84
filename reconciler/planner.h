// The planner: a PURE function of (desired state, observed state, options) →
// one decision per VM plus the rollout state of every PayloadSet
// (DESIGN.md §1 step 4, §7). `gitdisc diff` prints its result, `reconcile` and
// `serve` execute it: the same code, so a preview never lies.
//
// Everything a decision needs is in the inputs, and every input is either read
// from Git or observed again on every pass (drives, agent ledgers, the agent's
// running operation). Rollout bookkeeping is derived, not remembered:
//   - a set's failures = its selected VMs whose ledger holds a failed run of
//     one of the set's payloads at its CURRENT digest and no ok run of it.
//     A new revision that changes the set's content changes the digests, so a
//     halt ends exactly when the set's content changes;
//   - a set's in-flight VMs = those with our disc in a drive or a running
//     apply, plus those this plan starts (VMs are decided in name order);
//   - canaries = the first `canary` selected VMs by name; the others wait
//     until every canary is Ready.
// So a controller that crashed and restarted plans exactly what it would have.
//
// No I/O, no clock, no randomness; thread-safe (no shared state).
#ifndef GITDISC_RECONCILER_PLANNER_H_
#define GITDISC_RECONCILER_PLANNER_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/fleet_status.h"
#include "specs/spec_types.h"

namespace gitdisc::reconciler {

// ---- desired (from Git at one revision) -------------------------------------

struct DesiredPayload {
  std::string name;
  std::string version;
  std::string digest;  // payload identity, 64 hex
  std::chrono::seconds timeout{600};
  std::vector<std::string> sets;  // sets of this VM that name it
  bool operator==(const DesiredPayload&) const = default;
};

struct DesiredVm {
  std::vector<std::string> sets;  // selecting sets, sorted; empty = not selected
  bool conflict = false;
  std::string conflict_message;
  std::vector<DesiredPayload> payloads;  // apply order
  std::string bundle_digest;             // iso::BundleDigest of payload digests; "" if none
  bool operator==(const DesiredVm&) const = default;
};

struct DesiredSet {
  std::string name;
  specs::Rollout rollout;
  bool suspend = false;
  std::map<std::string, std::string> payload_digests;  // name → digest
  std::string content_digest;                          // over the payload digests
  bool operator==(const DesiredSet&) const = default;
};

struct DesiredState {
  std::string revision;
  std::map<std::string, DesiredSet> sets;  // by name
  std::map<std::string, DesiredVm> vms;    // by VM key; absent = not selected
};

// ---- observed (provider + agent, re-read every pass) ---------------------------

struct LedgerRecord {
  std::string op_id;
  std::string payload;
  std::string digest;
  std::string result;  // "ok", "failed", "timeout", "refused", "skipped"
  std::string message;
  bool operator==(const LedgerRecord&) const = default;
};

struct ObservedDrive {
  std::string target;  // "hdc"
  std::string source;  // path or volume; "" = empty
  // Our disc: the source is a <digest>.iso under our cache or our pool.
  std::string our_bundle;  // its bundle digest, "" when not ours (or empty)
  bool operator==(const ObservedDrive&) const = default;
};

// The agent's view of an operation, when it reported one.
struct ObservedOp {
  std::string op_id;
  bool running = false;        // false: finished
  bool failed = false;         // finished with any payload not ok
  bool disc_released = false;  // the agent unmounted and unlocked
  std::string manifest_digest;
  std::string message;
  bool operator==(const ObservedOp&) const = default;
};

struct ObservedVm {
  std::string key;
  std::string name;
  std::string host;
  std::string power = "running";
  bool running = true;
  std::map<std::string, std::string> labels;
  bool agent_reachable = false;
  std::string agent_error;
  // The bound the agent broke (guest::AgentClient::Misbehaviour, e.g.
  // "TooManyLines"): it is cut off and backed off. "" when it behaved.
  std::string agent_misbehaving;
  std::vector<LedgerRecord> ledger;
  // CD-ROM drives on a bus with a tray (IDE, SATA, SCSI): the ones a disc
  // can go into.
  std::vector<ObservedDrive> drives;
  // The domain defines the org.gitdisc.agent.0 channel. Without it the VM
  // cannot be managed at all: NotManageable, never waited for.
  bool has_agent_channel = true;
  // Delivery methods other than hot insert into `drives` that reach this VM
  // and that gitdisc delivers with ("disk", "channel"; DESIGN.md §5). With
  // no drive and none of these, a VM with work is NotManageable.
  std::vector<std::string> other_delivery;
  std::optional<ObservedOp> op;  // running op, or the last finished one we asked about
  // Supplied by the controller (clock-dependent facts, decided outside):
  bool disc_overdue = false;   // our disc has been in longer than the bundle's timeout
  bool retry_backoff = false;  // a failed VM is inside its retry backoff
  // The backoff ends by itself (the daemon, `reconcile --retry-failed`); false
  // when a failure of this run is final (`reconcile` without the flag).
  bool retry_scheduled = false;
  bool operator==(const ObservedVm&) const = default;
};

// ---- the plan ------------------------------------------------------------------

enum class PlanKind {
  kSkip,     // not selected: never touched
  kInSync,   // Ready (maybe with an eject of our leftover disc)
  kInstall,  // apply payloads the VM never had
  kUpgrade,  // apply payloads the VM has at another digest
  kRetry,    // apply payloads whose last run failed
  kFollow,   // an apply is running: follow it
  kBlocked,  // cannot act now (condition says why)
};
const char* PlanKindName(PlanKind k);

struct VmPlan {
  std::string key;
  std::string name;
  std::string host;
  PlanKind kind = PlanKind::kBlocked;
  VmCondition condition = VmCondition::kUnknown;
  std::string reason;
  std::string message;
  std::vector<std::string> sets;
  std::vector<PayloadStatus> payloads;    // desired, with states
  std::vector<std::string> apply;         // payload names to apply, in desired order
  std::string bundle_digest;              // the VM's full desired bundle
  std::vector<std::string> eject_drives;  // drives holding our discs to eject first
  bool force_eject = false;               // the agent is gone and the apply's time is up
  std::string insert_drive;               // "" when the disc is already in (or no action)
  std::string op_id;                      // for apply / follow
  bool counts_in_flight = false;
  bool counts_failed = false;
  // Failed, and retried by itself once its backoff is over: the run that
  // waits for convergence keeps waiting for it (up to its deadline).
  bool retry_scheduled = false;
  bool operator==(const VmPlan&) const = default;
};

struct PlanOptions {
  bool retry_failed = true;  // daemon: retry with backoff; CLI: a failure is final
};

struct Plan {
  std::string revision;
  std::vector<VmPlan> vms;      // by name, then key
  std::vector<SetStatus> sets;  // by name
  // VMs with action (install/upgrade/retry/follow or an eject).
  int Pending() const;
  // No selected VM needs or waits for anything.
  bool InSync() const;
  const VmPlan* Find(const std::string& key) const;
};

Plan MakePlan(const DesiredState& desired, const std::vector<ObservedVm>& observed,
              const PlanOptions& options = {});

// The deterministic operation id (DESIGN.md §7, docs/reconcile.md): the same
// VM, bundle and payload list after the same failed operations (`retry_of`:
// the op ids of the failed runs of those payloads at those digests that the
// ledger records, sorted, comma-joined; "" for a first attempt) always gets
// the same id, so a restarted controller re-sends the id the agent already
// knows — and every retry after a new failure gets a new one, which the
// agent runs rather than answering with the failed result it keeps.
std::string OperationId(const std::string& vm_key, const std::string& bundle_digest,
                        const std::vector<std::string>& payloads, const std::string& retry_of);

// Recognises our disc: a source "<root>/<64 hex>.iso" (or "<root>/<64 hex>")
// directly under one of `roots` (our image cache folder, our pool's folder).
// A root "[*] DIR" stands for DIR on any vSphere datastore ("[DS] DIR/<digest>.iso").
// Returns the digest, or "" when the source is not ours.
std::string OurBundleFromSource(const std::string& source, const std::vector<std::string>& roots);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_PLANNER_H_
