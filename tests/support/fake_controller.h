// FakeController: a recording ControllerApi with a realistic FleetStatus, for
// the daemon's unit and HTTP tests. Thread-safe (the HTTP server calls it from
// its worker threads).
#ifndef GITDISC_TESTS_SUPPORT_FAKE_CONTROLLER_H_
#define GITDISC_TESTS_SUPPORT_FAKE_CONTROLLER_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/controller_api.h"

namespace gitdisc::testing {

// Six VMs on two hosts, three payloads, two sets, a few events; one VM's
// message and one payload's name carry HTML so escaping is exercised.
inline reconciler::FleetStatus SampleFleetStatus() {
  using namespace reconciler;
  FleetStatus s;
  s.generated_unix = 1795651200;  // 2026-11-24
  s.source.repo = "https://git.example/fleet.git";
  s.source.branch = "main";
  s.source.revision = "4f2a9c1e7b3d5a6f8091a2b3c4d5e6f708192a3b";
  s.source.last_valid_revision = s.source.revision;
  s.source.fetched_unix = 1795651190;
  auto payload = [](const char* name, const char* version, PayloadState st, const char* msg = "") {
    return PayloadStatus{name, version, std::string(64, 'a'), st, msg};
  };
  auto vm = [&](const char* name, const char* host, VmCondition c, const char* reason,
                const char* message, std::vector<PayloadStatus> payloads) {
    VmStatus v;
    v.key = std::string(host) + "/" + name;
    v.name = name;
    v.host = host;
    v.power = c == VmCondition::kPending ? "shutoff" : "running";
    v.labels = {{"role", std::string(name).substr(0, std::string(name).find('-'))}};
    v.sets = {"web-baseline"};
    v.condition = c;
    v.reason = reason;
    v.message = message;
    v.payloads = std::move(payloads);
    v.revision = s.source.revision;
    return v;
  };
  s.vms = {
      vm("db-1", "qemu:///system", VmCondition::kPending, "NotRunning", "domain is shut off",
         {payload("motd", "2", PayloadState::kPending),
          payload("pg-tools", "15.4", PayloadState::kPending)}),
      vm("db-2", "qemu+ssh://hv2/system", VmCondition::kDriveBusy, "NoFreeDrive",
         "the only CD-ROM drive holds media gitdisc did not insert",
         {payload("motd", "2", PayloadState::kApplied),
          payload("pg-tools", "15.4", PayloadState::kPending)}),
      vm("edge-1", "qemu+ssh://hv2/system", VmCondition::kConflict, "PayloadConflict",
         "sets <b>web-baseline</b> & edge name motd differently", {}),
      vm("web-1", "qemu:///system", VmCondition::kReady, "Applied", "all payloads applied",
         {payload("motd", "2", PayloadState::kApplied),
          payload("openssl", "3.0.22-1", PayloadState::kApplied)}),
      vm("web-2", "qemu:///system", VmCondition::kProgressing, "Applying",
         "applying openssl (operation 7f3e)",
         {payload("motd", "2", PayloadState::kApplied),
          payload("openssl", "3.0.22-1", PayloadState::kApplying)}),
      vm("web-3", "qemu:///system", VmCondition::kFailed, "ApplyFailed",
         "openssl: ./install.sh exited with status 1",
         {payload("motd", "2", PayloadState::kApplied),
          payload("openssl", "3.0.22-1", PayloadState::kFailed, "exit status 1")}),
  };
  s.sets = {
      SetStatus{"db-tools",
                {"db-1", "db-2"},
                0,
                0,
                0,
                2,
                RolloutState::kProgressing,
                "waiting for db-1 to start",
                "b"},
      SetStatus{"web-baseline",
                {"web-1", "web-2", "web-3"},
                1,
                1,
                1,
                0,
                RolloutState::kHalted,
                "1 failure reached maxFailures 0",
                "c"},
  };
  s.events = {
      Event{1795651100, "Normal", "source", "Fetched", "main at 4f2a9c1e7b3d"},
      Event{1795651120, "Normal", "vm/web-2", "Inserted", "disc GITDISC_a1b2c3 in hdc"},
      Event{1795651150, "Warning", "vm/web-3", "ApplyFailed", "openssl exited with status 1"},
      Event{1795651160, "Warning", "set/web-baseline", "Halted", "maxFailures 0 reached"},
  };
  s.counters.reconciles_total = 42;
  s.counters.applies_total = {{"ok", 5}, {"failed", 1}};
  s.iso_cache_bytes = 73400320;
  return s;
}

class FakeController final : public reconciler::ControllerApi {
 public:
  reconciler::FleetStatus Status() const override {
    std::lock_guard<std::mutex> l(mu_);
    return status_;
  }
  void EnqueueAll(std::string_view reason) override {
    std::lock_guard<std::mutex> l(mu_);
    enqueue_all_.emplace_back(reason);
  }
  void NotifySourceChanged(std::string_view reason) override {
    std::lock_guard<std::mutex> l(mu_);
    source_changed_.emplace_back(reason);
  }
  Result<nlohmann::json> PlanAt(const std::string& revision) override {
    std::lock_guard<std::mutex> l(mu_);
    plan_requests_.push_back(revision);
    if (revision == "0000000000000000000000000000000000000000") {
      return gitdisc::Status::NotFound("revision " + revision + " not found");
    }
    if (revision == "badbadbadbadbadbadbadbadbadbadbadbadbad0") {
      return gitdisc::Status::Invalid("fleet.yaml:3:5: error: unknown key 'payload'");
    }
    if (unknown_plans_ > 0) {
      --unknown_plans_;
      return gitdisc::Status::NotFound("unknown revision '" + revision + "'");
    }
    if (plan_) return *plan_;
    return nlohmann::json{
        {"schemaVersion", 1},
        {"revision", revision.empty() ? status_.source.revision : revision},
        {"vms", nlohmann::json::array({{{"name", "web-2"}, {"actions", {"^ upgrade openssl"}}}})}};
  }
  bool Ready() const override { return ready_.load(); }

  void SetStatus(reconciler::FleetStatus s) {
    std::lock_guard<std::mutex> l(mu_);
    status_ = std::move(s);
  }
  void SetReady(bool r) { ready_ = r; }
  // PlanAt answers `plan`, after `unknown_first` answers of kNotFound (a
  // revision not fetched yet).
  void SetPlan(nlohmann::json plan, int unknown_first = 0) {
    std::lock_guard<std::mutex> l(mu_);
    plan_ = std::move(plan);
    unknown_plans_ = unknown_first;
  }
  std::vector<std::string> source_changed() const {
    std::lock_guard<std::mutex> l(mu_);
    return source_changed_;
  }
  std::vector<std::string> enqueue_all() const {
    std::lock_guard<std::mutex> l(mu_);
    return enqueue_all_;
  }
  std::vector<std::string> plan_requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return plan_requests_;
  }

 private:
  mutable std::mutex mu_;
  reconciler::FleetStatus status_ = SampleFleetStatus();
  std::vector<std::string> source_changed_;
  std::vector<std::string> enqueue_all_;
  std::vector<std::string> plan_requests_;
  std::optional<nlohmann::json> plan_;
  int unknown_plans_ = 0;
  std::atomic<bool> ready_{true};
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_FAKE_CONTROLLER_H_
