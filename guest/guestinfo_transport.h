// The agent's vSphere transport: the guestinfo mailbox (guest/mailbox_stream.h)
// read and written with open-vm-tools' vmware-rpctool —
//   vmware-rpctool "info-get guestinfo.gitdisc.request"
//   vmware-rpctool "info-set guestinfo.gitdisc.reply <frame>"
// The host writes the request value into the VM's extraConfig and reads the
// reply from it (providers/vsphere_provider.h).
//
// The transport polls the request value (every idle_poll while no session is
// open); a frame of a session it has not served yet, and not closed (`fin`),
// opens a connection that Agent::Serve handles until the host closes it or a
// newer session supersedes it, which is then served next.
//
// GuestinfoStore is the seam: the real one runs vmware-rpctool; tests use a
// fake script (guest/guestinfo_transport_test.cc) or the vCenter simulator's
// API (tests/vsphere). Thread-safety: a store is used by one transport, from
// its serving thread and the agent's apply thread (calls are serialised by
// the mailbox stream).
#ifndef GITDISC_GUEST_GUESTINFO_TRANSPORT_H_
#define GITDISC_GUEST_GUESTINFO_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "guest/agent_transport.h"
#include "guest/mailbox_stream.h"

namespace gitdisc::guest {

// guestinfo variables as the guest sees them.
class GuestinfoStore {
 public:
  virtual ~GuestinfoStore() = default;
  // The value of `key` ("guestinfo.…"); "" when it is not set.
  virtual Result<std::string> Get(const std::string& key) = 0;
  virtual Status Set(const std::string& key, const std::string& value) = 0;
};

// vmware-rpctool at `path` (a bare name is searched in /usr/bin:/bin:/usr/sbin:/sbin).
// Each call runs it once, with a 10 s timeout; kUnavailable when it cannot run
// or fails for another reason than an unset value.
std::unique_ptr<GuestinfoStore> MakeRpctoolStore(std::string path);

// The agent's side of one VM's mailbox over a store: reads the request,
// writes the reply.
std::unique_ptr<MailboxSlots> MakeGuestMailboxSlots(std::shared_ptr<GuestinfoStore> store);

struct GuestinfoOptions {
  MailboxOptions mailbox;
  std::chrono::milliseconds idle_poll{250};   // request polling with no session open
  std::chrono::milliseconds retry_sleep{2'000};  // after a store error
  int max_connections = 0;                    // stop after this many (tests); 0: forever
  // Tests: Run returns once this turns true (checked between sessions; the
  // store should then fail its calls so a session in progress ends too).
  const std::atomic<bool>* stop = nullptr;
};

std::unique_ptr<AgentTransport> MakeGuestinfoTransport(std::shared_ptr<GuestinfoStore> store,
                                                       GuestinfoOptions options);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_GUESTINFO_TRANSPORT_H_
