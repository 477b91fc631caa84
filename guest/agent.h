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
// apply, in order: find the disc among the candidate devices (retrying for
// disc_retry: the first reads after a media change can fail), read its
// manifest, refuse unless the bundle digest equals the host's and every payload
// digest recomputes from its manifest entry, verify every file on the disc
// (SHA-256, modes, nothing extra), mount it read-only (fallback: extract the
// payloads with the ISO reader), run each requested payload not yet applied
// (ledger: same name and digest, result ok) in `after` order, stop at the
// first failure, record each result durably before reporting it, unmount and
// unlock the drive, then report `done` (and reboot when a payload asked).
//
// Side effects on the guest (mount, unlock, reboot, device listing) go through
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
  // Candidate CD-ROM devices (/dev/sr*), sorted.
  virtual std::vector<std::string> ListDiscDevices() = 0;
  // Mounts device read-only (iso9660, nodev, nosuid) on dir, creating dir.
  virtual Status Mount(const std::string& device, const std::string& dir) = 0;
  // Unmounts dir (lazily if it stays busy) and removes it.
  virtual Status Unmount(const std::string& dir) = 0;
  // Unlocks the drive's tray (CDROM_LOCKDOOR 0); ok for non-block devices.
  virtual Status UnlockDrive(const std::string& device) = 0;
  // Syncs file systems and reboots the guest. Returns only in tests.
  virtual void Reboot() = 0;
};

// The real thing: mount(2), umount2(2), the CDROM_LOCKDOOR ioctl, reboot(2).
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
