#include "reconciler/agent_guard.h"

#include <algorithm>
#include <functional>
#include <random>

namespace gitdisc::reconciler {
namespace {

std::string Seconds(std::chrono::milliseconds d) {
  return std::to_string((d.count() + 999) / 1000) + " s";
}

}  // namespace

AgentGuard::AgentGuard(const Clock* clock, Options options, StatusWriter* status)
    : clock_(clock), options_(options), status_(status) {}

std::optional<std::chrono::milliseconds> AgentGuard::BackoffLeft(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  auto now = clock_->Now();
  if (now >= it->second.until) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.until - now);
}

Observation AgentGuard::FromMemory(const VmInfo& info, const ObserveOptions& options,
                                   const Entry& r) const {
  Observation out;
  out.info = info;
  out.vm = ObservedFromInfo(info, options.our_roots);
  if (!out.vm.running) return out;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(r.until - clock_->Now());
  out.vm.agent_misbehaving = r.bound;
  out.vm.agent_error = r.detail + " (" + std::to_string(r.times) +
                       (r.times == 1 ? " time" : " times in a row") + "; not asked again for " +
                       Seconds(std::max(left, std::chrono::milliseconds(0))) + ")";
  out.misbehaviour = guest::AgentClient::Misbehaviour{r.bound, r.detail};
  return out;
}

Observation AgentGuard::Observe(Provider& provider, const VmInfo& info,
                                const ObserveOptions& options,
                                std::unique_ptr<guest::AgentClient> agent) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = records_.find(info.key);
    if (it != records_.end() && clock_->Now() < it->second.until) {
      return FromMemory(info, options, it->second);
    }
  }
  Observation ob = reconciler::Observe(provider, info, options, std::move(agent));
  if (ob.misbehaviour) {
    Record(info.key, info.name, *ob.misbehaviour);
    std::lock_guard<std::mutex> l(mu_);
    auto it = records_.find(info.key);
    if (it != records_.end()) return FromMemory(info, options, it->second);
  } else if (ob.vm.agent_reachable) {
    std::lock_guard<std::mutex> l(mu_);
    records_.erase(info.key);
  }
  return ob;
}

void AgentGuard::Record(const std::string& key, const std::string& name,
                        const guest::AgentClient::Misbehaviour& m) {
  std::chrono::milliseconds delay;
  int times;
  {
    std::lock_guard<std::mutex> l(mu_);
    Entry& r = records_[key];
    times = ++r.times;
    auto d = options_.backoff_base * (1LL << std::min(times - 1, 16));
    if (d > options_.backoff_max) d = options_.backoff_max;
    std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>()(key) + times));
    delay = std::chrono::duration_cast<std::chrono::milliseconds>(d) +
            std::chrono::milliseconds(rng() % 1000);
    r.bound = m.bound;
    r.detail = m.detail;
    r.until = clock_->Now() + delay;
  }
  status_->AddEvent("Warning", "vm/" + name, "AgentCutOff",
                    m.bound + ": " + m.detail + "; cut off, not asked again for " +
                        Seconds(delay) + " (" + std::to_string(times) +
                        (times == 1 ? " time)" : " times in a row)"));
}

}  // namespace gitdisc::reconciler
