// `gitdisc vm check NAME…|--all` and `gitdisc vm prepare NAME` over any
// Provider: the libvirt one (cmd_vm.cc opens it from --connect), the
// recording fake in tests.
//
// check: for each VM, what it lacks to be managed and which delivery
// methods reach it (providers/manageability.h), plus what its persistent
// definition already holds that the running VM does not (a restart is
// pending). Exit 0 every VM is manageable, 1 some VM lacks something, 2 an
// error (no such VM, the provider failed).
//
// prepare: adds the missing devices to the persistent definition
// (Provider::PrepareVm) and prints them as a diff ("+ <device …/>"), says
// when a restart is needed. Exit 0 (also when nothing was missing), 2 error.
//
// Both print for people, or with json one document {"schemaVersion": 1, …}.
#ifndef GITDISC_CLI_VM_CHECK_H_
#define GITDISC_CLI_VM_CHECK_H_

#include <string>
#include <vector>

#include "cli/cli.h"
#include "providers/provider.h"

namespace gitdisc::cli {

struct VmCheckArgs {
  std::vector<std::string> names = {};  // domain names; every VM when `all`
  bool all = false;
};
int RunVmCheck(Provider& provider, const VmCheckArgs& args, bool json, Io& io);

struct VmPrepareArgs {
  std::string name = {};
  PrepareVmOptions options = {};
};
int RunVmPrepare(Provider& provider, const VmPrepareArgs& args, bool json, Io& io);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_VM_CHECK_H_
