#include "iso/volume_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace gitdisc::iso {

namespace {
constexpr off_t kPvdOffset = 16 * 2048;
constexpr size_t kSector = 2048;
}  // namespace

Result<std::string> ReadIsoVolumeId(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Status::FromErrno("open " + path, errno);
  unsigned char vd[kSector];
  size_t got = 0;
  while (got < kSector) {
    ssize_t n = ::pread(fd.get(), vd + got, kSector - got, kPvdOffset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read " + path, errno);
    if (n == 0) return Status::Corrupt(path + ": too short for an ISO 9660 volume");
    got += static_cast<size_t>(n);
  }
  if (vd[0] != 1 || std::memcmp(vd + 1, "CD001", 5) != 0) {
    return Status::Corrupt(path + ": no ISO 9660 primary volume descriptor");
  }
  std::string vid(reinterpret_cast<const char*>(vd + 40), 32);
  while (!vid.empty() && (vid.back() == ' ' || vid.back() == '\0')) vid.pop_back();
  return vid;
}

}  // namespace gitdisc::iso
