// FleetStatus: the status model of a fleet as the controller last saw it —
// per VM, per PayloadSet, the source, counters and recent events
// (DESIGN.md §1 step 6, §7). It is what `gitdisc status`, the daemon's
// /api/v1/status, the status page and the metrics all read.
//
// Everything here is a plain value: the controller builds a fresh FleetStatus
// on every pass (or copies its own under a lock) and hands out copies, so
// readers never share mutable state with it. ToJson/FromJson give the stable
// wire form (schemaVersion 1); field names there are camelCase and enum values
// are the DESIGN.md §7 condition names ("Ready", "DriveBusy", ...).
//
// EventLog is the one shared object here: a bounded ring buffer of recent
// events, safe for concurrent use (internal mutex).
#ifndef GITDISC_RECONCILER_FLEET_STATUS_H_
#define GITDISC_RECONCILER_FLEET_STATUS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::reconciler {

inline constexpr int kFleetStatusSchemaVersion = 1;

// A VM's condition. Exactly one holds at a time; `reason` and `message` in
// VmStatus say why.
enum class VmCondition {
  kUnknown,           // not observed yet
  kNotSelected,       // no PayloadSet selects it; gitdisc leaves it alone
  kPending,           // selected but not running
  kAgentUnavailable,  // running, but the agent does not answer on its channel
  kAgentMisbehaving,  // the agent broke a bound of the protocol: cut off, backed off
  kConflict,          // two sets name one payload with different content
  kDriveBusy,         // no empty CD-ROM drive and none holding our disc
  kNotManageable,     // no agent channel defined, or no delivery method reaches it
  kWaiting,           // work to do, but the rollout does not allow it yet
  kProgressing,       // a disc is in / an apply is running
  kReady,             // every desired payload applied (ledger says ok)
  kFailed,            // the last apply failed; retried with backoff
  kHalted,            // work to do, but a set it belongs to is halted
  kSuspended,         // work to do, but a set it belongs to is suspended
  kError,             // observing or acting failed in an unexpected way
};

enum class PayloadState { kApplied, kPending, kApplying, kFailed };

enum class RolloutState {
  kProgressing,  // some selected VMs still need work
  kComplete,     // every selected VM is Ready
  kHalted,       // failures exceeded maxFailures at this set content
  kSuspended,    // spec says suspend: true
};

const char* VmConditionName(VmCondition c);
const char* PayloadStateName(PayloadState s);
const char* RolloutStateName(RolloutState s);
// Parse the names above; kInvalid for anything else.
Result<VmCondition> ParseVmCondition(std::string_view s);
Result<PayloadState> ParsePayloadState(std::string_view s);
Result<RolloutState> ParseRolloutState(std::string_view s);

struct PayloadStatus {
  std::string name;
  std::string version;
  std::string digest;  // payload identity (DESIGN.md §3)
  PayloadState state = PayloadState::kPending;
  std::string message;  // e.g. the failure's exit status / output tail
  bool operator==(const PayloadStatus&) const = default;
};

struct VmStatus {
  std::string key;    // provider key, "<uri>/<uuid>"
  std::string name;   // domain name
  std::string host;   // connection URI it was found on
  std::string power;  // "running", "shutoff", "paused", ... (provider's words)
  std::map<std::string, std::string> labels;
  std::vector<std::string> sets;  // PayloadSets selecting it, sorted
  VmCondition condition = VmCondition::kUnknown;
  std::string reason;                   // short CamelCase machine word, e.g. "ApplyFailed"
  std::string message;                  // one sentence for people
  std::vector<PayloadStatus> payloads;  // desired payloads, in apply order
  std::string bundle_digest;            // the bundle this VM desires ("" when none)
  std::string disc_inserted;            // bundle digest of OUR disc in a drive, "" when none
  std::string operation_id;             // in-flight apply, "" when none
  std::string revision;                 // revision the desired state was computed at
  int64_t last_transition_unix = 0;     // when condition last changed (wall clock)
  bool operator==(const VmStatus&) const = default;
};

struct SetStatus {
  std::string name;
  std::vector<std::string> selected;  // VM names, sorted
  int ready = 0;
  int failed = 0;
  int in_flight = 0;
  int pending = 0;  // selected, not ready, not in flight, not failed
  RolloutState rollout = RolloutState::kProgressing;
  std::string message;
  std::string content_digest;  // digest of the set's payload digests (halts key on it)
  bool operator==(const SetStatus&) const = default;
};

struct SourceStatus {
  std::string repo;
  std::string branch;
  std::string revision;                  // newest revision seen
  std::string last_valid_revision;       // the one the controller acts on
  std::vector<std::string> spec_errors;  // "FILE:LINE:COL: error: ..." of `revision`
  int64_t fetched_unix = 0;
  // SignatureUnverified: the newest revision refused for its signature
  // (source.verify), the commit whose signature failed (in mode all it may
  // be older) and why ("unsigned: …", "unknown key: …"). Empty: none.
  std::string unverified_revision;
  std::string unverified_commit;
  std::string unverified_reason;
  bool operator==(const SourceStatus&) const = default;
};

struct Event {
  int64_t time_unix = 0;
  std::string type = "Normal";  // "Normal" or "Warning"
  std::string object;           // "vm/<name>", "set/<name>" or "source"
  std::string reason;           // CamelCase, e.g. "Inserted", "ApplySucceeded"
  std::string message;
  bool operator==(const Event&) const = default;
};

// Counters for /metrics. Monotonic over the controller's life.
struct ControllerCounters {
  uint64_t reconciles_total = 0;                  // Reconcile(key) calls finished
  uint64_t reconcile_errors_total = 0;            // ... that ended in an error
  double reconcile_seconds_sum = 0;               // wall time spent in Reconcile(key)
  std::map<std::string, uint64_t> applies_total;  // by result: "ok", "failed"
  uint64_t iso_builds_total = 0;
  uint64_t inserts_total = 0;
  uint64_t ejects_total = 0;
  bool operator==(const ControllerCounters&) const = default;
};

struct FleetStatus {
  int64_t generated_unix = 0;
  SourceStatus source;
  std::vector<VmStatus> vms;    // sorted by name, then host
  std::vector<SetStatus> sets;  // sorted by name
  std::vector<Event> events;    // oldest first
  // Events ever recorded (events holds the most recent of them): the newest
  // `events_total - N` tells a reader which events it has not seen yet.
  uint64_t events_total = 0;
  ControllerCounters counters;
  uint64_t iso_cache_bytes = 0;
  // True when every selected VM is Ready and the source is valid.
  bool Converged() const;
  // VMs per condition name (every condition present, zero included).
  std::map<std::string, int> CountByCondition() const;
  bool operator==(const FleetStatus&) const = default;
};

nlohmann::json ToJson(const FleetStatus& s);
nlohmann::json ToJson(const VmStatus& s);
nlohmann::json ToJson(const SetStatus& s);
// Parses what ToJson wrote (schemaVersion 1); kInvalid with the field's name
// on anything else. Used by `gitdisc status --server`.
Result<FleetStatus> FleetStatusFromJson(const nlohmann::json& j);

// Bounded ring buffer of recent events; the oldest fall out first.
// Thread-safe.
class EventLog {
 public:
  explicit EventLog(size_t capacity = 200) : capacity_(capacity) {}
  void Add(Event e);
  // The kept events, oldest first, and (when asked) how many were ever
  // added, read together.
  std::vector<Event> Snapshot(uint64_t* added_total = nullptr) const;

 private:
  mutable std::mutex mu_;
  size_t capacity_;
  std::deque<Event> events_;
  uint64_t added_ = 0;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_FLEET_STATUS_H_
