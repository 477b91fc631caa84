// FakeFleet: simulated VMs for tests and benchmarks that drive the real
// controller — the recording FakeProvider stands in for libvirt, and on the
// other end of every VM's agent channel runs the REAL gitdisc agent
// (guest/agent.h) on a thread, reading whatever image the VM's fake drive
// holds (through FakeDriveSystem: there is no kernel mount, the agent
// extracts the image itself) — or, for VMs added as hostile, a HostileAgent.
//
// Thread-safety: the provider is thread-safe; agents are created and served
// under the fleet's lock. Destroy whatever uses the provider (the controller)
// before the fleet.
#ifndef GITDISC_TESTS_SUPPORT_FAKE_FLEET_H_
#define GITDISC_TESTS_SUPPORT_FAKE_FLEET_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/byte_stream.h"
#include "guest/agent.h"
#include "tests/support/fake_provider.h"
#include "tests/support/hostile_agent.h"

namespace gitdisc::testing {

// The agent's view of a fake VM's drives: ListDiscDevices names the images
// the VM's fake CD-ROMs hold (the agent reads image files as it reads
// /dev/sr0).
class FakeDriveSystem final : public guest::AgentSystem {
 public:
  FakeDriveSystem(FakeProvider* provider, std::string key)
      : provider_(provider), key_(std::move(key)) {}
  std::vector<std::string> ListDiscDevices() override;
  Status UnlockDrive(const std::string& device) override;
  void Reboot() override {}

 private:
  FakeProvider* provider_;
  std::string key_;
};

class FakeFleet {
 public:
  struct Options {
    std::string state_dir;  // agents keep their ledgers under state_dir/<uuid>
    std::chrono::milliseconds disc_retry{300};
  };
  explicit FakeFleet(Options options);
  ~FakeFleet();
  FakeFleet(const FakeFleet&) = delete;
  FakeFleet& operator=(const FakeFleet&) = delete;

  FakeProvider& provider() { return *provider_; }
  // Adds a running VM with one CD-ROM and the agent channel; returns its key.
  std::string AddVm(const std::string& name, const std::map<std::string, std::string>& labels);
  // The same, but what answers on its channel is a HostileAgent doing `h`
  // (a new one for every channel the controller opens).
  std::string AddHostileVm(const std::string& name,
                           const std::map<std::string, std::string>& labels, Hostility h);

 private:
  guest::Agent* AgentFor(const std::string& key);

  Options options_;
  std::unique_ptr<FakeProvider> provider_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<guest::Agent>> agents_;
  std::vector<std::unique_ptr<ByteStream>> streams_;
  std::vector<std::thread> threads_;
  std::map<std::string, Hostility> hostile_;  // key → what its "agent" does
  std::vector<std::unique_ptr<HostileAgent>> hostiles_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_FAKE_FLEET_H_
