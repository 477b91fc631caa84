// gitdisc-agent: the static binary that runs inside a VM (DESIGN.md §6).
// Parses options, builds the real dependencies and runs the port loop.
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "guest/agent.h"
#include "guest/agent_port.h"
#include "guest/agent_transport.h"
#include "guest/guestinfo_transport.h"
#include "iso/iso_reader.h"

#ifndef GITDISC_VERSION
#define GITDISC_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "gitdisc-agent: applies gitdisc payloads from the bundle disc (CD-ROM or hot-added disk), "
      "controlled over the virtio-serial port org.gitdisc.agent.0 or the vSphere guestinfo mailbox"};
  gitdisc::guest::AgentOptions agent_options;
  agent_options.version = GITDISC_VERSION;
  gitdisc::guest::PortOptions port_options;
  int disc_retry_ms = 10'000;
  bool once = false;
  std::string transport = gitdisc::guest::kTransportVirtioSerial;
  std::string rpctool = "vmware-rpctool";
  app.add_option("--port", port_options.port,
                 "the channel: a virtio-serial port device or a unix socket "
                 "(default: the port named org.gitdisc.agent.0, waited for)");
  app.add_option("--state-dir", agent_options.state_dir, "ledger and scratch space")
      ->capture_default_str();
  app.add_option(
      "--disc", agent_options.discs,
      "disc device or ISO image to read (repeatable; default: /dev/sr*, /dev/vd*, /dev/sd*)");
  app.add_option("--sysfs-dir", port_options.sysfs_dir, "where virtio ports are listed")
      ->capture_default_str();
  app.add_option("--disc-retry-ms", disc_retry_ms,
                 "how long to keep retrying to read a freshly inserted disc")
      ->capture_default_str();
  app.add_option("--transport", transport,
                 "how the host is reached: virtio-serial (libvirt) or vmware-guestinfo "
                 "(vSphere: the guestinfo mailbox through vmware-rpctool)")
      ->check(CLI::IsMember({gitdisc::guest::kTransportVirtioSerial,
                             gitdisc::guest::kTransportVmwareGuestinfo}))
      ->capture_default_str();
  app.add_option("--rpctool", rpctool, "the vmware-rpctool program (vmware-guestinfo)")
      ->capture_default_str();
  app.add_flag("--once", once, "exit after the first connection ends (tests)");
  app.set_version_flag("--version", GITDISC_VERSION);
  CLI11_PARSE(app, argc, argv);
  agent_options.disc_retry = std::chrono::milliseconds(disc_retry_ms);
  if (once) port_options.max_connections = 1;

  // Copies of payloads are made 0755/0644 whatever umask the agent was started
  // with: nothing the agent runs may be writable by others.
  ::umask(022);
  // A host that goes away must not kill the agent with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  // libcdio would exit() on the first failed read after a media change.
  gitdisc::iso::RouteLibcdioLogs("gitdisc-agent");

  auto agent = gitdisc::guest::Agent::Create(agent_options, gitdisc::guest::MakeLinuxAgentSystem());
  if (!agent.ok()) {
    std::fprintf(stderr, "gitdisc-agent: %s\n", agent.status().ToString().c_str());
    return 2;
  }
  std::fprintf(stderr, "gitdisc-agent %s: state in %s\n", GITDISC_VERSION,
               agent_options.state_dir.c_str());
  std::unique_ptr<gitdisc::guest::AgentTransport> channel;
  if (transport == gitdisc::guest::kTransportVmwareGuestinfo) {
    gitdisc::guest::GuestinfoOptions guestinfo_options;
    if (once) guestinfo_options.max_connections = 1;
    channel = gitdisc::guest::MakeGuestinfoTransport(gitdisc::guest::MakeRpctoolStore(rpctool),
                                                     guestinfo_options);
  } else {
    channel = gitdisc::guest::MakeVirtioSerialTransport(port_options);
  }
  gitdisc::Status s = channel->Run(**agent);
  (*agent)->WaitIdle();
  if (!s.ok()) {
    std::fprintf(stderr, "gitdisc-agent: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
