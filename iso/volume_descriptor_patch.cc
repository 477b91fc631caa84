#include "iso/volume_descriptor_patch.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "iso/bundle.h"
#include "iso/image_build_state.h"

namespace gitdisc::iso {
namespace {

constexpr size_t kBlock = 2048;

}  // namespace

// Replaces the digest-derived placeholders in the volume descriptors of the
// written image: the volume ID (PVD: 32 d-characters; Joliet SVD: 16 UCS-2
// characters) and the UUID digits of the volume times.
Status PatchVolumeDescriptors(int fd, const std::string& path, const std::string& digest,
                              time_t epoch) {
  const std::string vol_id = VolumeIdForDigest(digest);
  const std::string placeholder = VolumeIdForDigest(kZeroDigest);
  const std::string uuid = VolumeUuidForDigest(digest);
  // libisofs writes the UUID into both volume times; the creation time gets
  // the real (source date) time back, the modification time keeps the UUID.
  char created[64];
  struct tm tm;
  gmtime_r(&epoch, &tm);
  std::snprintf(created, sizeof created, "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  bool patched_primary = false;
  for (int block = 16; block < 16 + 32; ++block) {
    unsigned char vd[kBlock];
    ssize_t got = ::pread(fd, vd, kBlock, static_cast<off_t>(block) * kBlock);
    if (got != static_cast<ssize_t>(kBlock)) return Status::FromErrno("pread " + path, errno);
    if (std::memcmp(vd + 1, "CD001", 5) != 0) {
      return Status::Internal(path + ": volume descriptor " + std::to_string(block) +
                              " is not CD001");
    }
    unsigned char type = vd[0];
    if (type == 255) break;
    bool changed = false;
    if (type == 1) {
      if (std::memcmp(vd + 40, placeholder.data(), 32) != 0) {
        return Status::Internal(path + ": volume ID placeholder not found");
      }
      std::memcpy(vd + 40, vol_id.data(), 32);
      patched_primary = changed = true;
    } else if (type == 2) {
      unsigned char want[32], put[32];
      for (int i = 0; i < 16; ++i) {
        want[2 * i] = 0;
        want[2 * i + 1] = static_cast<unsigned char>(placeholder[i]);
        put[2 * i] = 0;
        put[2 * i + 1] = static_cast<unsigned char>(vol_id[i]);
      }
      if (std::memcmp(vd + 40, want, 32) == 0) {
        std::memcpy(vd + 40, put, 32);
        changed = true;
      }
    }
    if (type == 1 || type == 2) {
      // Creation (813) and modification (830) times, 17 bytes each.
      for (int off : {813, 830}) {
        if (std::memcmp(vd + off, kUuidPlaceholder, 16) == 0 && vd[off + 16] == 0) {
          std::memcpy(vd + off, off == 813 ? created : uuid.data(), 16);
          changed = true;
        }
      }
    }
    if (changed) {
      ssize_t put = ::pwrite(fd, vd, kBlock, static_cast<off_t>(block) * kBlock);
      if (put != static_cast<ssize_t>(kBlock)) return Status::FromErrno("pwrite " + path, errno);
    }
  }
  if (!patched_primary) return Status::Internal(path + ": no primary volume descriptor");
  return Status::Ok();
}

}  // namespace gitdisc::iso
