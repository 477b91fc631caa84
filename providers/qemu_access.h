// QemuAccess: who QEMU runs as on this host and whether it can reach an
// image gitdisc inserts by path. libvirt's DAC driver (dynamic_ownership, on
// by default) hands the image file itself to QEMU's user when it is inserted
// — measured with libvirt 9.0: a 0640 root:root image became 0640
// libvirt-qemu:libvirt-qemu, and stays so after the eject (read-only media
// are not relabelled back) — but never the folders above it: QEMU must be
// able to search each of them on its own. A private state folder (0750) is
// therefore enough when its group is one of QEMU's (docs/security.md).
//
// The identity is looked up by name: `libvirt-qemu` (Debian, Ubuntu), else
// `qemu` (Fedora, RHEL); unknown when neither exists, and then only a folder
// searchable by everyone counts. Pure apart from the lookups; thread-safe.
#ifndef GITDISC_PROVIDERS_QEMU_ACCESS_H_
#define GITDISC_PROVIDERS_QEMU_ACCESS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gitdisc {

struct QemuIdentity {
  bool known = false;
  std::string user;  // "libvirt-qemu"
  uint32_t uid = 0;
  uint32_t gid = 0;                // primary group (libvirt runs QEMU with it)
  std::vector<uint32_t> groups;    // every group of the user, the primary one included
};

QemuIdentity LocalQemuIdentity();

// Whether `who` may search (x) a folder with this mode, owner and group, as
// the kernel decides it: owner bits for the owner, group bits for a member,
// else the bits for others.
bool QemuCanSearch(const QemuIdentity& who, uint32_t mode, uint32_t owner, uint32_t group);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_QEMU_ACCESS_H_
