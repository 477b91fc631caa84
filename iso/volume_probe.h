// ReadIsoVolumeId: the volume ID of an ISO 9660 image or device, read from
// its primary volume descriptor alone (one 2 KiB sector at 32 KiB), without
// indexing the tree. The agent uses it to pick, among every block device of
// the guest, the one holding the disc the host named (DESIGN.md §5: volume ID
// "GITDISC_" + the first 24 hex digits of the bundle digest); it is cheap
// enough to run on every candidate device, including non-ISO disks.
//
// The value is only a hint for choosing where to look: a disc can carry any
// volume ID, so what is found is still verified in full (iso/iso_reader.h).
//
// Thread-safe (opens its own descriptor).
#ifndef GITDISC_ISO_VOLUME_PROBE_H_
#define GITDISC_ISO_VOLUME_PROBE_H_

#include <string>

#include "base/status.h"

namespace gitdisc::iso {

// The volume ID with trailing spaces/NULs removed. kNotFound/kIo/kPermission
// when the path cannot be opened or read (an empty drive reports ENOMEDIUM as
// kIo), kCorrupt when sector 16 is not an ISO 9660 primary volume descriptor.
Result<std::string> ReadIsoVolumeId(const std::string& path);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_VOLUME_PROBE_H_
