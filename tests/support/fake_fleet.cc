#include "tests/support/fake_fleet.h"

#include <cstdio>

namespace gitdisc::testing {

std::vector<std::string> FakeDriveSystem::ListDiscDevices() {
  std::vector<std::string> out;
  auto vm = provider_->Peek(key_);
  if (vm.ok()) {
    for (const DriveInfo& d : vm->cdroms) {
      if (!d.source.empty()) out.push_back(d.source);
    }
  }
  return out;
}

Status FakeDriveSystem::UnlockDrive(const std::string&) { return Status::Ok(); }

FakeFleet::FakeFleet(Options options)
    : options_(std::move(options)),
      provider_(std::make_unique<FakeProvider>(std::vector<std::string>{"qemu:///system"})) {
  provider_->SetAgentFactory([this](const std::string& key, std::unique_ptr<ByteStream> s) {
    std::lock_guard<std::mutex> l(mu_);
    if (auto h = hostile_.find(key); h != hostile_.end()) {
      hostiles_.push_back(std::make_unique<HostileAgent>(h->second, std::move(s)));
      return;
    }
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
  hostiles_.clear();  // their writes fail now that the controller closed its ends
  for (auto& t : threads_) t.join();
  agents_.clear();
  provider_.reset();
}

std::string FakeFleet::AddVm(const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  return provider_->AddVm({.name = name, .labels = labels});
}

std::string FakeFleet::AddHostileVm(const std::string& name,
                                    const std::map<std::string, std::string>& labels,
                                    Hostility h) {
  std::string key = provider_->AddVm({.name = name, .labels = labels});
  std::lock_guard<std::mutex> l(mu_);
  hostile_[key] = h;
  return key;
}

guest::Agent* FakeFleet::AgentFor(const std::string& key) {
  auto it = agents_.find(key);
  if (it != agents_.end()) return it->second.get();
  guest::AgentOptions o;
  o.state_dir = options_.state_dir + "/" + key.substr(key.rfind('/') + 1);
  o.disc_retry = options_.disc_retry;
  auto a = guest::Agent::Create(o, std::make_unique<FakeDriveSystem>(provider_.get(), key));
  if (!a.ok()) {
    std::fprintf(stderr, "fake fleet: agent for %s: %s\n", key.c_str(),
                 a.status().ToString().c_str());
    return nullptr;
  }
  return (agents_[key] = std::move(a).value()).get();
}

}  // namespace gitdisc::testing
