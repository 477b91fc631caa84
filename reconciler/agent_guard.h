// AgentGuard: what the controller remembers about guests that broke a bound
// of the agent protocol (guest/agent_client.h, docs/security.md "A hostile
// guest"). Per VM: the bound, the detail, how many times in a row, and the
// exponential backoff that follows (base x 2^(n-1), at most max, plus up to
// 1 s of jitter), during which nobody opens that VM's channel: scans and
// workers see the VM as AgentMisbehaving from memory instead. An observation
// after the backoff that goes well forgets the VM; one that breaks a bound
// again doubles the backoff.
//
// Every misbehaviour is reported once as a Warning event (AgentCutOff,
// with the bound and a detail that quotes at most a short, escaped piece of
// what the guest sent).
//
// Thread-safety: safe from any thread. Locking: mu_ guards the records; it
// is a leaf, and never held while observing (Observe calls the provider and
// the agent without it).
#ifndef GITDISC_RECONCILER_AGENT_GUARD_H_
#define GITDISC_RECONCILER_AGENT_GUARD_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "guest/agent_client.h"
#include "providers/provider.h"
#include "reconciler/observed.h"
#include "reconciler/status_writer.h"

namespace gitdisc::reconciler {

class AgentGuard {
 public:
  struct Options {
    std::chrono::seconds backoff_base{30};
    std::chrono::seconds backoff_max{1800};
  };
  AgentGuard(const Clock* clock, Options options, StatusWriter* status);

  // The observation of `info`: from memory, without touching the channel,
  // while the VM is backed off; else Observe() (with `agent` if given),
  // recording a misbehaviour it finds or forgetting an old one when the
  // agent answered well.
  Observation Observe(Provider& provider, const VmInfo& info, const ObserveOptions& options,
                      std::unique_ptr<guest::AgentClient> agent = nullptr);

  // The guest of `key` (named `name`) broke a bound outside an observation
  // (while an apply was followed).
  void Record(const std::string& key, const std::string& name,
              const guest::AgentClient::Misbehaviour& m);

  // How long `key` is still backed off; nullopt when it is not.
  std::optional<std::chrono::milliseconds> BackoffLeft(const std::string& key) const;

 private:
  struct Entry {
    std::string bound;
    std::string detail;
    int times = 0;
    Clock::TimePoint until;
  };
  // The "backed off" observation of `info` from `r`.
  Observation FromMemory(const VmInfo& info, const ObserveOptions& options, const Entry& r) const;

  const Clock* clock_;
  Options options_;
  StatusWriter* status_;
  mutable std::mutex mu_;  // guards records_
  std::map<std::string, Entry> records_;  // by VM key
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_AGENT_GUARD_H_
