// The Linux AgentSystem: what gitdisc-agent does to the guest besides running
// payloads (guest/agent.h).
#include <dirent.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/unique_fd.h"
#include "guest/agent.h"

namespace gitdisc::guest {
namespace {

// "sr0", "vda", "sdb": a CD-ROM drive or a whole disk (not a partition such
// as "vda1": a bundle image has no partition table).
bool IsCandidateName(const std::string& name) {
  auto all = [&](size_t from, auto pred) {
    return name.size() > from && std::all_of(name.begin() + from, name.end(), pred);
  };
  if (name.compare(0, 2, "sr") == 0) return all(2, [](char c) { return c >= '0' && c <= '9'; });
  if (name.compare(0, 2, "vd") == 0 || name.compare(0, 2, "sd") == 0) {
    return all(2, [](char c) { return c >= 'a' && c <= 'z'; });
  }
  return false;
}

class LinuxAgentSystem final : public AgentSystem {
 public:
  std::vector<std::string> ListDiscDevices() override {
    std::vector<std::string> out;
    DIR* d = ::opendir("/dev");
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
      if (IsCandidateName(e->d_name)) out.push_back(std::string("/dev/") + e->d_name);
    }
    ::closedir(d);
    // sr* first: the CD-ROM is the usual way in; then disks in name order.
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
      bool ca = a.compare(0, 7, "/dev/sr") == 0, cb = b.compare(0, 7, "/dev/sr") == 0;
      if (ca != cb) return ca;
      if (a.size() != b.size()) return a.size() < b.size();  // sr2 before sr10
      return a < b;
    });
    return out;
  }

  Status UnlockDrive(const std::string& device) override {
    struct stat st;
    if (::stat(device.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENXIO) return Status::Ok();  // the device is gone
      return Status::FromErrno("stat " + device, errno);
    }
    if (!S_ISBLK(st.st_mode)) return Status::Ok();  // an image file (tests)
    UniqueFd fd(::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT || errno == ENXIO || errno == ENOMEDIUM) return Status::Ok();
      return Status::FromErrno("open " + device, errno);
    }
    if (::ioctl(fd.get(), CDROM_LOCKDOOR, 0) != 0) {
      // Not a CD-ROM (a hot-added virtio or SCSI disk): no tray to unlock.
      if (errno == ENOTTY || errno == EINVAL || errno == ENOSYS) return Status::Ok();
      return Status::FromErrno("CDROM_LOCKDOOR 0 on " + device, errno);
    }
    return Status::Ok();
  }

  void Reboot() override {
    ::sync();
    ::reboot(RB_AUTOBOOT);
  }
};

}  // namespace

std::unique_ptr<AgentSystem> MakeLinuxAgentSystem() { return std::make_unique<LinuxAgentSystem>(); }

}  // namespace gitdisc::guest
