// RunApplyOperation: one `apply` of gitdisc-agent, from finding the disc to
// the last payload's result (docs/agent.md "What apply does"). The agent
// (guest/agent.h) owns the connection, the ledger and the op's lifecycle; this
// is the work in between, which promises:
//  - the disc is taken only from a device whose volume ID names the host's
//    bundle digest and whose manifest carries exactly that digest
//    (guest/disc_finder.h); a device that then fails any check is dropped and
//    the next match is tried;
//  - every requested payload's digest recomputes from its manifest entry, the
//    disc's layout matches its manifest, and each payload that will run is
//    copied off the disc while hashing and the copy verified
//    (guest/payload_store.h) — all before anything runs;
//  - the drive is closed and unlocked once the copies are verified, before
//    anything runs (op.disc_released is saved then, so `status` shows it);
//  - payloads run only from their verified copies, in `after` order, each
//    result saved before it is reported; the first failure stops the rest;
//  - a payload that succeeded becomes the kept copy; a failed one never
//    replaces the kept copy of the last good one.
//
// Blocks the calling thread (the agent's apply worker) until the op is over.
#ifndef GITDISC_GUEST_APPLY_OPERATION_H_
#define GITDISC_GUEST_APPLY_OPERATION_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "guest/agent.h"
#include "guest/ledger.h"
#include "guest/payload_store.h"

namespace gitdisc::guest {

// What the operation needs from the agent. The callbacks are called on the
// calling thread; they take whatever locks the agent needs.
struct ApplyContext {
  const AgentOptions* options = nullptr;
  AgentSystem* system = nullptr;
  PayloadStore* store = nullptr;
  // A progress event (and the phase `status` shows).
  std::function<void(const std::string& payload, const std::string& phase,
                     const std::string& message)>
      progress;
  // Records the op durably and as the running op's state.
  std::function<void(const OpRecord& op)> save;
  // Sends one `result` event.
  std::function<void(const PayloadResult& result)> report;
  // The ledger's ok record of (name, digest), if it was applied.
  std::function<std::optional<PayloadResult>(const std::string& name, const std::string& digest)>
      applied;
  // The ledger's installed digest per payload name.
  std::function<std::map<std::string, std::string>()> installed;
};

// Runs `op` (state running, payloads requested) until its payloads are done
// or refused: fills op.results, op.message, op.disc_released and op.reboot.
// The caller marks it finished and sends `done` (and reboots when op.reboot).
void RunApplyOperation(OpRecord& op, const ApplyContext& ctx);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_APPLY_OPERATION_H_
