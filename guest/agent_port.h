// The guest end of the channel: finding the virtio-serial port named
// org.gitdisc.agent.0, opening it (or, for tests, a unix socket), and the
// agent's forever loop of serving connections over it.
//
// A virtio-serial port reads end-of-file (and polls as hung up) while no host
// has the channel open; the loop then sleeps briefly and serves again, so it
// neither spins nor misses a host that connects later. Right after a host
// hung up the waits are short (5 ms, doubling up to idle_sleep), because the
// controller usually reconnects within milliseconds. Writes have a deadline
// so a host that stops reading cannot wedge the agent.
//
// Thread-compatible; RunAgentLoop runs on the caller's thread.
#ifndef GITDISC_GUEST_AGENT_PORT_H_
#define GITDISC_GUEST_AGENT_PORT_H_

#include <chrono>
#include <memory>
#include <string>

#include "base/byte_stream.h"
#include "base/status.h"
#include "guest/agent.h"

namespace gitdisc::guest {

// "/dev/vportNpM" for the port whose <sysfs_dir>/<vportNpM>/name equals name;
// kNotFound when there is none (yet).
Result<std::string> FindPortByName(const std::string& sysfs_dir, const std::string& name);

// Opens a character device (the port) read-write, or connects to a unix
// socket when path is one.
Result<std::unique_ptr<ByteStream>> OpenPort(const std::string& path,
                                             std::chrono::milliseconds write_deadline);

struct PortOptions {
  std::string port;  // empty: look up kChannelName under sysfs_dir
  std::string sysfs_dir = "/sys/class/virtio-ports";
  std::string dev_dir = "/dev";
  std::chrono::milliseconds idle_sleep{250};     // after end of stream
  std::chrono::milliseconds retry_sleep{1'000};  // port missing or unopenable
  std::chrono::milliseconds write_deadline{10'000};
  // Stop after this many connections ended (tests); 0: forever.
  int max_connections = 0;
};

// Finds/opens the port (waiting for it to appear) and serves connections on
// it. Returns only when max_connections is reached.
Status RunAgentLoop(Agent& agent, const PortOptions& options);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_AGENT_PORT_H_
