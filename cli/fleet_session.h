// FleetSession: the real dependencies of the fleet commands (`diff` against
// the fleet, `reconcile`, `status --connect`, `label`), built from the global
// options: libgit2, the Git Source (--repo/--branch/--path, STATE), the
// provider (--connect: libvirt or vsphere:// URIs, default qemu:///system;
// providers/provider_factory.h), the ISO cache
// (STATE/isos) and a Controller over them. Owned by one command run.
#ifndef GITDISC_CLI_FLEET_SESSION_H_
#define GITDISC_CLI_FLEET_SESSION_H_

#include <memory>
#include <ostream>
#include <string_view>
#include <string>
#include <vector>

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "cli/cli.h"
#include "reconciler/controller.h"
#include "specs/git_library.h"
#include "specs/source.h"

namespace gitdisc::cli {

struct FleetSession {
  SystemClock clock;
  std::unique_ptr<specs::GitLibrary> git;
  std::unique_ptr<specs::Source> source;
  std::unique_ptr<Provider> provider;
  std::unique_ptr<iso::IsoCache> cache;
  std::unique_ptr<reconciler::Controller> controller;
};

// One line on `err` when the last fetch of the session's remote failed (the
// plan then comes from the mirror's last fetched revision); nothing otherwise.
void WarnIfFetchFailed(FleetSession& session, std::string_view command, std::ostream& err);

// The --connect URIs; without any, $LIBVIRT_DEFAULT_URI (libvirt's own
// configured default), else {"qemu:///system"}.
std::vector<std::string> ConnectUris(const GlobalOptions& global);

// The one VM named `name` on the provider's hosts: kNotFound when none is,
// kInvalid naming the keys when the name is found on several hosts.
Result<VmInfo> FindVmByName(Provider& provider, const std::string& name);

// Whether a fleet was named (--connect or $LIBVIRT_DEFAULT_URI).
bool ConnectionGiven(const GlobalOptions& global);

// with_source false: provider only (status without a repo, label). The
// image cache is bounded by `cache_max_bytes` (--cache-max; 0: unbounded).
Result<std::unique_ptr<FleetSession>> OpenFleetSession(
    const GlobalOptions& global, bool with_source, reconciler::ControllerOptions options = {},
    uint64_t cache_max_bytes = iso::kDefaultCacheMaxBytes);

// Prints the plan for people (DESIGN.md §4: "+ install", "^ upgrade",
// "= in sync", "! blocked"), aligned, colour only when `color`.
void PrintPlanText(std::ostream& out, const reconciler::Plan& plan, const reconciler::DesiredBuild& desired,
                   const iso::IsoCache* cache, bool color);

// `gitdisc diff` in fleet mode (no --base): exit 0 in sync, 1 changes
// pending, 2 error. The hook cmd_diff.cc calls.
int RunFleetDiff(const GlobalOptions& global, Io& io);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_FLEET_SESSION_H_
