#include "bench/support/fake_fleet.h"

#include <cstdio>

namespace gitdisc::bench {
namespace {

// The agent's disc: whatever image the fake drive of this VM holds.
class FakeDriveSystem final : public guest::AgentSystem {
 public:
  FakeDriveSystem(FakeProvider* p, std::string key) : p_(p), key_(std::move(key)) {}
  std::vector<std::string> ListDiscDevices() override {
    std::vector<std::string> out;
    auto vm = p_->Peek(key_);
    if (vm.ok()) {
      for (const DriveInfo& d : vm->cdroms) {
        if (!d.source.empty()) out.push_back(d.source);
      }
    }
    return out;
  }
  Status UnlockDrive(const std::string&) override { return Status::Ok(); }
  void Reboot() override {}

 private:
  FakeProvider* p_;
  std::string key_;
};

}  // namespace

FakeFleet::FakeFleet(std::string state_dir)
    : state_dir_(std::move(state_dir)),
      provider_(std::make_unique<FakeProvider>(std::vector<std::string>{"qemu:///system"})) {
  provider_->SetAgentFactory([this](const std::string& key, std::unique_ptr<ByteStream> s) {
    std::lock_guard<std::mutex> l(mu_);
    guest::Agent* agent = AgentFor(key);
    if (!agent) return;  // the stream closes: the controller sees an unreachable agent
    ByteStream* raw = s.get();
    streams_.push_back(std::move(s));
    threads_.emplace_back([agent, raw] { (void)agent->Serve(raw); });
  });
}

FakeFleet::~FakeFleet() {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& s : streams_) s->Close();
  }
  for (auto& t : threads_) t.join();
  agents_.clear();
  provider_.reset();
}

std::string FakeFleet::AddVm(const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  return provider_->AddVm({.name = name, .labels = labels});
}

guest::Agent* FakeFleet::AgentFor(const std::string& key) {
  auto it = agents_.find(key);
  if (it != agents_.end()) return it->second.get();
  guest::AgentOptions o;
  o.state_dir = state_dir_ + "/" + key.substr(key.rfind('/') + 1);
  o.disc_retry = std::chrono::milliseconds(300);
  auto a = guest::Agent::Create(o, std::make_unique<FakeDriveSystem>(provider_.get(), key));
  if (!a.ok()) {
    std::fprintf(stderr, "fake fleet: agent for %s: %s\n", key.c_str(),
                 a.status().ToString().c_str());
    return nullptr;
  }
  return (agents_[key] = std::move(a).value()).get();
}

}  // namespace gitdisc::bench
