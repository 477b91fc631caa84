// Observation (DESIGN.md §1 step 3): one VM as it is now — power state, labels
// and drives from the provider, and, when it runs, its agent's ledger and
// running operation over the org.gitdisc.agent.0 channel. Reads only: nothing
// here changes a VM.
//
// The agent channel is exclusive, so the AgentClient opened for observing is
// handed back with the observation and reused by the executor for the same
// pass.
//
// Thread-safety: Observe may run for several VMs at once (the Provider is
// thread-safe); each Observation is owned by its caller.
#ifndef GITDISC_RECONCILER_OBSERVED_H_
#define GITDISC_RECONCILER_OBSERVED_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guest/agent_client.h"
#include "providers/manageability.h"
#include "providers/provider.h"
#include "reconciler/planner.h"

namespace gitdisc::reconciler {

struct ObserveOptions {
  // Folders whose "<digest>.iso" images are ours (the ISO cache, pool folders).
  std::vector<std::string> our_roots;
  guest::AgentClient::Options agent;
  // Every agent call of the observation ends by then (the controller's
  // per-VM deadline); the client handed back has no deadline.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The delivery methods gitdisc delivers with (ObservedVm::other_delivery).
  DeliveryOptions delivery;
};

struct Observation {
  VmInfo info;
  ObservedVm vm;
  std::unique_ptr<guest::AgentClient> agent;  // null when the agent did not answer
  // Set when the agent broke a bound (then vm.agent_misbehaving names it).
  std::optional<guest::AgentClient::Misbehaviour> misbehaviour;
};

// Never fails: what could not be read is recorded (agent_reachable false,
// agent_error, agent_misbehaving) so the planner can say so. With `agent`, that open client is
// asked instead of opening the channel again (the executor's, right after
// its apply: the agent is still finishing on that connection).
Observation Observe(Provider& provider, const VmInfo& info, const ObserveOptions& options,
                    std::unique_ptr<guest::AgentClient> agent = nullptr);

// The planner's view of provider data alone (no agent): CD-ROM drives with
// a tray, the channel, and the other delivery methods (of `delivery`) that
// reach the VM.
ObservedVm ObservedFromInfo(const VmInfo& info, const std::vector<std::string>& our_roots,
                            const DeliveryOptions& delivery = {});

// The agent's ledger records in the planner's form.
std::vector<LedgerRecord> LedgerFromAgent(const std::vector<guest::PayloadResult>& records);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_OBSERVED_H_
