// Agent: the request handling and apply logic of gitdisc-agent (DESIGN.md §6),
// independent of how the connection to the host is made (guest/agent_port.h
// finds the virtio-serial port; tests use a socketpair).
//
// Serve() handles one connection: it reads requests line by line
// (guest/protocol.h), answers each (malformed input gets an `error` and the
// connection is kept), and returns at end of stream. An `apply` runs on a
// worker thread, so a host that disconnects does not stop it: its results are
// in the ledger and `status` reports them on the next connection. One
// operation runs at a time; a different op id meanwhile gets `busy`.
//
// apply (guest/apply_operation.h): find the disc by the volume ID the host's
// bundle digest names, among every candidate device (retrying for disc_retry:
// the first reads after a media change can fail); refuse unless its manifest
// carries exactly that digest and every payload digest recomputes from its
// manifest entry; check the disc's layout; copy each payload that will run
// off the disc with the ISO reader while hashing it, and verify the copy
// (guest/payload_store.h) — trying the next matching device if one fails;
// close and unlock the drive; then run each requested payload not yet
// applied (ledger: same name and digest, result ok) from its verified copy in
// `after` order, stop at the first failure, record each result durably
// before reporting it, keep the copy of what succeeded, and report `done`
// (and reboot when a payload asked). The kernel never mounts the disc.
//
// Side effects on the guest (unlock, reboot, device listing) go through
// AgentSystem so tests can record them. Agent is thread-safe: Serve() may be
// called again (after a reconnect) while an apply runs.
#ifndef GITDISC_GUEST_AGENT_H_
#define GITDISC_GUEST_AGENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_stream.h"
#include "base/status.h"

namespace gitdisc::guest {

// What the agent does to the guest besides running payloads.
class AgentSystem {
 public:
  virtual ~AgentSystem() = default;
  // Candidate disc devices, sorted: CD-ROM drives (/dev/sr*) and whole disks
  // (/dev/vd*, /dev/sd*), where a hot-added bundle disk appears.
  virtual std::vector<std::string> ListDiscDevices() = 0;
  // Unlocks the drive's tray (CDROM_LOCKDOOR 0). Ok for what has no tray (an
  // image file, a disk) and for a device that is gone.
  virtual Status UnlockDrive(const std::string& device) = 0;
  // Syncs file systems and reboots the guest. Returns only in tests.
  virtual void Reboot() = 0;
};

// The real thing: /dev listing, the CDROM_LOCKDOOR ioctl, reboot(2).
std::unique_ptr<AgentSystem> MakeLinuxAgentSystem();

struct AgentOptions {
  std::string state_dir = "/var/lib/gitdisc-agent";
  // Disc devices or image files to look at; empty: AgentSystem::ListDiscDevices().
  std::vector<std::string> discs;
  std::string version = "0.1.0";
  std::chrono::milliseconds disc_retry{10'000};
  std::chrono::milliseconds kill_grace{5'000};
  size_t tail_bytes = 64 * 1024;
  // Pause between `done` and the reboot, so the message reaches the host.
  std::chrono::milliseconds reboot_delay{1'000};
};

class Agent {
 public:
  // Opens the ledger in options.state_dir (created if missing).
  static Result<std::unique_ptr<Agent>> Create(AgentOptions options,
                                               std::unique_ptr<AgentSystem> system);
  ~Agent();  // waits for a running apply to finish
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Serves one connection until end of stream (Ok) or a stream error.
  // Replies and the events of a running apply go to this stream meanwhile.
  Status Serve(ByteStream* stream);

  // Blocks until no apply is running (tests, shutdown).
  void WaitIdle();

 private:
  struct State;
  Agent() = default;
  std::unique_ptr<State> s_;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_AGENT_H_
