// OpenProvider: the Provider for a list of connection URIs, whatever their
// kind — libvirt URIs (qemu:///system, qemu+ssh://…) go to one
// LibvirtProvider, each vsphere:// URI to a VsphereProvider, and when more
// than one provider results they are combined behind one Provider that routes
// every call by the host part of the VM key (MultiProvider). This is what
// `--connect` and the daemon's `connections:` use.
//
// Thread-safety: as the providers it combines (all thread-safe).
#ifndef GITDISC_PROVIDERS_PROVIDER_FACTORY_H_
#define GITDISC_PROVIDERS_PROVIDER_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "providers/provider.h"

namespace gitdisc {

// kInvalid for no URI or one given twice; otherwise what opening the first
// failing connection returned (messages never carry a password).
Result<std::unique_ptr<Provider>> OpenProvider(const std::vector<std::string>& uris);

// Several providers as one: Hosts() and ListVms() concatenate (sorted by
// key), per-VM calls go to the provider serving the key's host, Watch
// reaches all. Every provider must serve distinct hosts.
std::unique_ptr<Provider> MakeMultiProvider(std::vector<std::unique_ptr<Provider>> providers);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_PROVIDER_FACTORY_H_
