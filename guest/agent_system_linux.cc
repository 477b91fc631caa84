// The Linux AgentSystem: what gitdisc-agent does to the guest besides running
// payloads (guest/agent.h).
#include <dirent.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "base/file_util.h"
#include "guest/agent.h"

namespace gitdisc::guest {
namespace {

class LinuxAgentSystem final : public AgentSystem {
 public:
  std::vector<std::string> ListDiscDevices() override {
    std::vector<std::string> out;
    DIR* d = ::opendir("/dev");
    if (!d) return out;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 2 && name.compare(0, 2, "sr") == 0 &&
          std::all_of(name.begin() + 2, name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        out.push_back("/dev/" + name);
      }
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }

  Status Mount(const std::string& device, const std::string& dir) override {
    GITDISC_RETURN_IF_ERROR(MakeDirs(dir, 0700));
    // The first access after a media change can fail once (unit attention).
    int err = 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (::mount(device.c_str(), dir.c_str(), "iso9660", MS_RDONLY | MS_NODEV | MS_NOSUID,
                  nullptr) == 0) {
        return Status::Ok();
      }
      err = errno;
      if (err != EIO && err != ENOMEDIUM && err != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ::rmdir(dir.c_str());
    return Status::FromErrno("mount " + device + " on " + dir, err);
  }

  Status Unmount(const std::string& dir) override {
    if (!PathExists(dir)) return Status::Ok();
    Status result = Status::Ok();
    for (int attempt = 0;; ++attempt) {
      if (::umount2(dir.c_str(), 0) == 0 || errno == EINVAL) break;  // EINVAL: not mounted
      if (errno != EBUSY || attempt >= 10) {
        int err = errno;
        // Detach so the drive is free; what still holds files keeps them.
        if (::umount2(dir.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
          result = Status::FromErrno("umount " + dir, err);
        }
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ::rmdir(dir.c_str());
    return result;
  }

  Status UnlockDrive(const std::string& device) override {
    struct stat st;
    if (::stat(device.c_str(), &st) != 0) return Status::FromErrno("stat " + device, errno);
    if (!S_ISBLK(st.st_mode)) return Status::Ok();  // an image file (tests)
    int fd = ::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("open " + device, errno);
    int rc = ::ioctl(fd, CDROM_LOCKDOOR, 0);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("CDROM_LOCKDOOR 0 on " + device, err);
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
