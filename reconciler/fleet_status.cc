#include "reconciler/fleet_status.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace gitdisc::reconciler {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<VmCondition, const char*>, 15> kVmConditions = {{
    {VmCondition::kUnknown, "Unknown"},
    {VmCondition::kNotSelected, "NotSelected"},
    {VmCondition::kPending, "Pending"},
    {VmCondition::kAgentUnavailable, "AgentUnavailable"},
    {VmCondition::kAgentMisbehaving, "AgentMisbehaving"},
    {VmCondition::kConflict, "Conflict"},
    {VmCondition::kDriveBusy, "DriveBusy"},
    {VmCondition::kNotManageable, "NotManageable"},
    {VmCondition::kWaiting, "Waiting"},
    {VmCondition::kProgressing, "Progressing"},
    {VmCondition::kReady, "Ready"},
    {VmCondition::kFailed, "Failed"},
    {VmCondition::kHalted, "Halted"},
    {VmCondition::kSuspended, "Suspended"},
    {VmCondition::kError, "Error"},
}};
constexpr std::array<std::pair<PayloadState, const char*>, 4> kPayloadStates = {{
    {PayloadState::kApplied, "applied"},
    {PayloadState::kPending, "pending"},
    {PayloadState::kApplying, "applying"},
    {PayloadState::kFailed, "failed"},
}};
constexpr std::array<std::pair<RolloutState, const char*>, 4> kRolloutStates = {{
    {RolloutState::kProgressing, "Progressing"},
    {RolloutState::kComplete, "Complete"},
    {RolloutState::kHalted, "Halted"},
    {RolloutState::kSuspended, "Suspended"},
}};

template <typename E, size_t N>
const char* NameOf(const std::array<std::pair<E, const char*>, N>& table, E v) {
  for (const auto& [e, n] : table) {
    if (e == v) return n;
  }
  return "?";
}

template <typename E, size_t N>
Result<E> Parse(const std::array<std::pair<E, const char*>, N>& table, std::string_view s,
                const char* what) {
  for (const auto& [e, n] : table) {
    if (s == n) return e;
  }
  return Status::Invalid(std::string("unknown ") + what + " \"" + std::string(s) + "\"");
}

// Field readers that turn nlohmann's exceptions into located errors.
struct Reader {
  const json& j;
  std::string where;
  Status st;

  template <typename T>
  void Get(const char* field, T* out, bool required = false) {
    if (!st.ok()) return;
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) {
      if (required) st = Status::Invalid(where + ": missing field \"" + field + "\"");
      return;
    }
    try {
      *out = it->get<T>();
    } catch (const json::exception& e) {
      st = Status::Invalid(where + "." + field + ": " + e.what());
    }
  }
};

json PayloadToJson(const PayloadStatus& p) {
  return json{{"name", p.name},
              {"version", p.version},
              {"digest", p.digest},
              {"state", PayloadStateName(p.state)},
              {"message", p.message}};
}

Result<PayloadStatus> PayloadFromJson(const json& j, const std::string& where) {
  PayloadStatus p;
  Reader r{j, where, {}};
  std::string state;
  r.Get("name", &p.name, true);
  r.Get("version", &p.version);
  r.Get("digest", &p.digest);
  r.Get("state", &state, true);
  r.Get("message", &p.message);
  GITDISC_RETURN_IF_ERROR(r.st);
  GITDISC_ASSIGN_OR_RETURN(p.state, ParsePayloadState(state));
  return p;
}

Result<VmStatus> VmFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + ": not an object");
  VmStatus v;
  Reader r{j, where, {}};
  std::string cond;
  r.Get("key", &v.key, true);
  r.Get("name", &v.name, true);
  r.Get("host", &v.host);
  r.Get("power", &v.power);
  r.Get("labels", &v.labels);
  r.Get("sets", &v.sets);
  r.Get("condition", &cond, true);
  r.Get("reason", &v.reason);
  r.Get("message", &v.message);
  r.Get("bundleDigest", &v.bundle_digest);
  r.Get("discInserted", &v.disc_inserted);
  r.Get("operationId", &v.operation_id);
  r.Get("revision", &v.revision);
  r.Get("lastTransitionTime", &v.last_transition_unix);
  GITDISC_RETURN_IF_ERROR(r.st);
  GITDISC_ASSIGN_OR_RETURN(v.condition, ParseVmCondition(cond));
  if (auto it = j.find("payloads"); it != j.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      GITDISC_ASSIGN_OR_RETURN(
          auto p, PayloadFromJson((*it)[i], where + ".payloads[" + std::to_string(i) + "]"));
      v.payloads.push_back(std::move(p));
    }
  }
  return v;
}

Result<SetStatus> SetFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + ": not an object");
  SetStatus s;
  Reader r{j, where, {}};
  std::string rollout;
  r.Get("name", &s.name, true);
  r.Get("selected", &s.selected);
  r.Get("ready", &s.ready);
  r.Get("failed", &s.failed);
  r.Get("inFlight", &s.in_flight);
  r.Get("pending", &s.pending);
  r.Get("rollout", &rollout, true);
  r.Get("message", &s.message);
  r.Get("contentDigest", &s.content_digest);
  GITDISC_RETURN_IF_ERROR(r.st);
  GITDISC_ASSIGN_OR_RETURN(s.rollout, ParseRolloutState(rollout));
  return s;
}

}  // namespace

const char* VmConditionName(VmCondition c) { return NameOf(kVmConditions, c); }
const char* PayloadStateName(PayloadState s) { return NameOf(kPayloadStates, s); }
const char* RolloutStateName(RolloutState s) { return NameOf(kRolloutStates, s); }
Result<VmCondition> ParseVmCondition(std::string_view s) {
  return Parse(kVmConditions, s, "condition");
}
Result<PayloadState> ParsePayloadState(std::string_view s) {
  return Parse(kPayloadStates, s, "payload state");
}
Result<RolloutState> ParseRolloutState(std::string_view s) {
  return Parse(kRolloutStates, s, "rollout state");
}

bool FleetStatus::Converged() const {
  bool refused = !source.spec_errors.empty() || !source.unverified_revision.empty();
  if (refused && source.last_valid_revision.empty()) return false;
  for (const VmStatus& v : vms) {
    if (v.condition == VmCondition::kNotSelected) continue;
    if (v.condition != VmCondition::kReady) return false;
  }
  return true;
}

std::map<std::string, int> FleetStatus::CountByCondition() const {
  std::map<std::string, int> out;
  for (const auto& [c, name] : kVmConditions) out[name] = 0;
  for (const VmStatus& v : vms) ++out[VmConditionName(v.condition)];
  return out;
}

nlohmann::json ToJson(const VmStatus& v) {
  json payloads = json::array();
  for (const PayloadStatus& p : v.payloads) payloads.push_back(PayloadToJson(p));
  return json{{"key", v.key},
              {"name", v.name},
              {"host", v.host},
              {"power", v.power},
              {"labels", v.labels},
              {"sets", v.sets},
              {"condition", VmConditionName(v.condition)},
              {"reason", v.reason},
              {"message", v.message},
              {"payloads", std::move(payloads)},
              {"bundleDigest", v.bundle_digest},
              {"discInserted", v.disc_inserted},
              {"operationId", v.operation_id},
              {"revision", v.revision},
              {"lastTransitionTime", v.last_transition_unix}};
}

nlohmann::json ToJson(const SetStatus& s) {
  return json{{"name", s.name},
              {"selected", s.selected},
              {"ready", s.ready},
              {"failed", s.failed},
              {"inFlight", s.in_flight},
              {"pending", s.pending},
              {"rollout", RolloutStateName(s.rollout)},
              {"message", s.message},
              {"contentDigest", s.content_digest}};
}

nlohmann::json ToJson(const FleetStatus& s) {
  json vms = json::array();
  for (const VmStatus& v : s.vms) vms.push_back(ToJson(v));
  json sets = json::array();
  for (const SetStatus& x : s.sets) sets.push_back(ToJson(x));
  json events = json::array();
  for (const Event& e : s.events) {
    events.push_back(json{{"time", e.time_unix},
                          {"type", e.type},
                          {"object", e.object},
                          {"reason", e.reason},
                          {"message", e.message}});
  }
  return json{
      {"schemaVersion", kFleetStatusSchemaVersion},
      {"generated", s.generated_unix},
      {"converged", s.Converged()},
      {"source",
       {{"repo", s.source.repo},
        {"branch", s.source.branch},
        {"revision", s.source.revision},
        {"lastValidRevision", s.source.last_valid_revision},
        {"specErrors", s.source.spec_errors},
        {"signatureUnverified",
         s.source.unverified_revision.empty()
             ? json(nullptr)
             : json{{"revision", s.source.unverified_revision},
                    {"commit", s.source.unverified_commit},
                    {"reason", s.source.unverified_reason}}},
        {"fetched", s.source.fetched_unix}}},
      {"vms", std::move(vms)},
      {"sets", std::move(sets)},
      {"events", std::move(events)},
      {"eventsTotal", s.events_total},
      {"counters",
       {{"reconcilesTotal", s.counters.reconciles_total},
        {"reconcileErrorsTotal", s.counters.reconcile_errors_total},
        {"reconcileSecondsSum", s.counters.reconcile_seconds_sum},
        {"appliesTotal", s.counters.applies_total},
        {"isoBuildsTotal", s.counters.iso_builds_total},
        {"insertsTotal", s.counters.inserts_total},
        {"ejectsTotal", s.counters.ejects_total}}},
      {"isoCacheBytes", s.iso_cache_bytes},
  };
}

Result<FleetStatus> FleetStatusFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Invalid("fleet status: not a JSON object");
  int version = 0;
  Reader top{j, "status", {}};
  top.Get("schemaVersion", &version, true);
  GITDISC_RETURN_IF_ERROR(top.st);
  if (version != kFleetStatusSchemaVersion) {
    return Status::Invalid("fleet status: unsupported schemaVersion " + std::to_string(version));
  }
  FleetStatus s;
  top.Get("generated", &s.generated_unix);
  top.Get("isoCacheBytes", &s.iso_cache_bytes);
  top.Get("eventsTotal", &s.events_total);
  GITDISC_RETURN_IF_ERROR(top.st);
  if (auto it = j.find("source"); it != j.end() && it->is_object()) {
    Reader r{*it, "status.source", {}};
    r.Get("repo", &s.source.repo);
    r.Get("branch", &s.source.branch);
    r.Get("revision", &s.source.revision);
    r.Get("lastValidRevision", &s.source.last_valid_revision);
    r.Get("specErrors", &s.source.spec_errors);
    r.Get("fetched", &s.source.fetched_unix);
    GITDISC_RETURN_IF_ERROR(r.st);
    if (auto u = it->find("signatureUnverified"); u != it->end() && u->is_object()) {
      Reader ur{*u, "status.source.signatureUnverified", {}};
      ur.Get("revision", &s.source.unverified_revision);
      ur.Get("commit", &s.source.unverified_commit);
      ur.Get("reason", &s.source.unverified_reason);
      GITDISC_RETURN_IF_ERROR(ur.st);
    }
  }
  if (auto it = j.find("vms"); it != j.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      GITDISC_ASSIGN_OR_RETURN(auto v,
                               VmFromJson((*it)[i], "status.vms[" + std::to_string(i) + "]"));
      s.vms.push_back(std::move(v));
    }
  }
  if (auto it = j.find("sets"); it != j.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      GITDISC_ASSIGN_OR_RETURN(auto x,
                               SetFromJson((*it)[i], "status.sets[" + std::to_string(i) + "]"));
      s.sets.push_back(std::move(x));
    }
  }
  if (auto it = j.find("events"); it != j.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      Event e;
      Reader r{(*it)[i], "status.events[" + std::to_string(i) + "]", {}};
      r.Get("time", &e.time_unix);
      r.Get("type", &e.type);
      r.Get("object", &e.object);
      r.Get("reason", &e.reason);
      r.Get("message", &e.message);
      GITDISC_RETURN_IF_ERROR(r.st);
      s.events.push_back(std::move(e));
    }
  }
  if (auto it = j.find("counters"); it != j.end() && it->is_object()) {
    Reader r{*it, "status.counters", {}};
    r.Get("reconcilesTotal", &s.counters.reconciles_total);
    r.Get("reconcileErrorsTotal", &s.counters.reconcile_errors_total);
    r.Get("reconcileSecondsSum", &s.counters.reconcile_seconds_sum);
    r.Get("appliesTotal", &s.counters.applies_total);
    r.Get("isoBuildsTotal", &s.counters.iso_builds_total);
    r.Get("insertsTotal", &s.counters.inserts_total);
    r.Get("ejectsTotal", &s.counters.ejects_total);
    GITDISC_RETURN_IF_ERROR(r.st);
  }
  return s;
}

void EventLog::Add(Event e) {
  std::lock_guard<std::mutex> l(mu_);
  events_.push_back(std::move(e));
  ++added_;
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<Event> EventLog::Snapshot(uint64_t* added_total) const {
  std::lock_guard<std::mutex> l(mu_);
  if (added_total != nullptr) *added_total = added_;
  return {events_.begin(), events_.end()};
}

}  // namespace gitdisc::reconciler
