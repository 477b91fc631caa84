// The last step of a bundle ISO build (internal to iso/): the volume
// descriptors precede the data, so libisofs writes them with placeholders
// that only the finished bundle digest can fill in. PatchVolumeDescriptors
// puts the digest-derived volume ID (PVD and Joliet SVD) and UUID (the
// volume modification time) in place, and the source date back into the
// creation time, in the written image file.
//
// Thread-safety: a pure function of its arguments and the file.
#ifndef GITDISC_ISO_VOLUME_DESCRIPTOR_PATCH_H_
#define GITDISC_ISO_VOLUME_DESCRIPTOR_PATCH_H_

#include <ctime>
#include <string>

#include "base/status.h"

namespace gitdisc::iso {

// What libisofs is given as the volume UUID (it writes it into both volume
// times); PatchVolumeDescriptors replaces it.
inline constexpr char kUuidPlaceholder[] = "0000000000000000";

// Patches the image open as `fd` (named `path` in errors), written with the
// volume ID VolumeIdForDigest(kZeroDigest) and kUuidPlaceholder, for the
// bundle `digest` built at source date `epoch`. kInternal when the image does
// not have the placeholders where they belong, kIo-like errno failures for
// pread/pwrite.
Status PatchVolumeDescriptors(int fd, const std::string& path, const std::string& digest,
                              time_t epoch);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_VOLUME_DESCRIPTOR_PATCH_H_
