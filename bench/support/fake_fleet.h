// FakeFleet: N simulated VMs for benchmarks that drive the real controller —
// the recording FakeProvider for libvirt, and on the other end of every VM's
// agent channel the REAL gitdisc agent (guest/agent.h) on a thread, reading
// whatever image the fake drive holds (it extracts: there is no kernel mount).
// The same arrangement as reconciler/controller_test.cc.
//
// Thread-safety: the provider is thread-safe; agents are created and served
// under the fleet's lock. Destroy the controller using the fleet first.
#ifndef GITDISC_BENCH_SUPPORT_FAKE_FLEET_H_
#define GITDISC_BENCH_SUPPORT_FAKE_FLEET_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/byte_stream.h"
#include "guest/agent.h"
#include "providers/fake_provider.h"

namespace gitdisc::bench {

class FakeFleet {
 public:
  // Agents keep their ledgers under state_dir/<uuid>.
  explicit FakeFleet(std::string state_dir);
  ~FakeFleet();
  FakeFleet(const FakeFleet&) = delete;
  FakeFleet& operator=(const FakeFleet&) = delete;

  FakeProvider& provider() { return *provider_; }
  // Adds a running VM with one CD-ROM and the agent channel; returns its key.
  std::string AddVm(const std::string& name, const std::map<std::string, std::string>& labels);

 private:
  guest::Agent* AgentFor(const std::string& key);

  std::string state_dir_;
  std::unique_ptr<FakeProvider> provider_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<guest::Agent>> agents_;
  std::vector<std::unique_ptr<ByteStream>> streams_;
  std::vector<std::thread> threads_;
};

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_FAKE_FLEET_H_
