// AgentTransport: how gitdisc-agent reaches its host (DESIGN.md §6). Two
// implementations, chosen with `gitdisc-agent --transport`:
//   virtio-serial     the port org.gitdisc.agent.0 (guest/agent_port.h; libvirt)
//   vmware-guestinfo  the guestinfo mailbox through vmware-rpctool
//                     (guest/guestinfo_transport.h; vSphere)
// Either way the same Agent serves the same protocol over a ByteStream; a
// transport only finds connections and hands each to Agent::Serve.
//
// Run() blocks on the caller's thread; a transport is used by one thread.
#ifndef GITDISC_GUEST_AGENT_TRANSPORT_H_
#define GITDISC_GUEST_AGENT_TRANSPORT_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "guest/agent.h"
#include "guest/agent_port.h"

namespace gitdisc::guest {

class AgentTransport {
 public:
  virtual ~AgentTransport() = default;
  // Serves host connections to `agent`, one after the other; returns only
  // when the transport's connection limit (tests) is reached.
  virtual Status Run(Agent& agent) = 0;
};

inline constexpr char kTransportVirtioSerial[] = "virtio-serial";
inline constexpr char kTransportVmwareGuestinfo[] = "vmware-guestinfo";

// The virtio-serial port (RunAgentLoop).
std::unique_ptr<AgentTransport> MakeVirtioSerialTransport(PortOptions options);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_AGENT_TRANSPORT_H_
