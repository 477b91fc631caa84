// The host's side of a VM's guestinfo mailbox on vSphere (guest/mailbox_stream.h):
// the request goes into extraConfig `guestinfo.gitdisc.request` with
// ReconfigVM_Task, the reply is read from config.extraConfig
// `guestinfo.gitdisc.reply` (the value a guest set with
// `vmware-rpctool "info-set …"`). Internal to the vSphere provider; also
// used, mirrored, by the tests' fake guest. Thread-safe as VimClient is.
#ifndef GITDISC_PROVIDERS_VSPHERE_MAILBOX_H_
#define GITDISC_PROVIDERS_VSPHERE_MAILBOX_H_

#include <chrono>
#include <memory>
#include <string>

#include "guest/mailbox_stream.h"
#include "providers/vsphere_types.h"

namespace gitdisc::vsphere {

class VimClient;

// Reads `read_key` and writes `write_key` of the VM's extraConfig. The host
// reads the reply and writes the request; a fake guest does the opposite.
std::unique_ptr<guest::MailboxSlots> MakeExtraConfigSlots(std::shared_ptr<VimClient> vim, MoRef vm,
                                                          std::string what, std::string read_key,
                                                          std::string write_key,
                                                          std::chrono::seconds task_timeout);

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_MAILBOX_H_
