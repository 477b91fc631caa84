// Handles and errors of the libvirt provider (internal to providers/: this
// header includes libvirt, so only the provider's own .cc files use it).
//
// One deleter alias per libvirt handle (STYLE.md), and LibvirtError, which
// turns libvirt's per-thread last error into a Status with the code the
// Provider contract promises (providers/provider.h "Errors"). libvirt keeps
// the last error per thread: call LibvirtError on the thread of the failing
// call, right after it.
//
// Thread-safety: stateless functions, safe from any thread.
#ifndef GITDISC_PROVIDERS_LIBVIRT_ERROR_H_
#define GITDISC_PROVIDERS_LIBVIRT_ERROR_H_

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/c_handle.h"
#include "base/status.h"

namespace gitdisc {

using ConnPtr = CHandle<virConnect, virConnectClose>;
using DomainPtr = CHandle<virDomain, virDomainFree>;
using PoolPtr = CHandle<virStoragePool, virStoragePoolFree>;
using VolPtr = CHandle<virStorageVol, virStorageVolFree>;
using StreamPtr = CHandle<virStream, virStreamFree>;
// Strings libvirt hands over to the caller (XML descriptions, paths).
using CString = CHandle<char, ::free>;

// The Status of the failing libvirt call `call` about `what` (a VM, a pool,
// a URI; may be empty): "call what: libvirt's message", its code mapped from
// libvirt's error code (no domain → kNotFound, operation invalid →
// kConflict, RPC → kUnavailable, a tray that would not open → kTimeout, …).
Status LibvirtError(std::string_view call, std::string_view what);

// Whether libvirt's message is about a CD-ROM tray (one that would not open,
// or is not open).
bool MentionsTray(std::string_view message);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_LIBVIRT_ERROR_H_
