#include "providers/qemu_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>

namespace gitdisc {

QemuIdentity LocalQemuIdentity() {
  QemuIdentity id;
  for (const char* name : {"libvirt-qemu", "qemu"}) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[4096];
    if (::getpwnam_r(name, &pw, buf, sizeof buf, &found) != 0 || found == nullptr) continue;
    id.known = true;
    id.user = name;
    id.uid = found->pw_uid;
    id.gid = found->pw_gid;
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (::getgrouplist(name, found->pw_gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<size_t>(n));
      ::getgrouplist(name, found->pw_gid, groups.data(), &n);
    }
    groups.resize(static_cast<size_t>(std::max(n, 0)));
    id.groups.assign(groups.begin(), groups.end());
    if (std::find(id.groups.begin(), id.groups.end(), id.gid) == id.groups.end()) {
      id.groups.push_back(id.gid);
    }
    return id;
  }
  return id;
}

bool QemuCanSearch(const QemuIdentity& who, uint32_t mode, uint32_t owner, uint32_t group) {
  if (!who.known) return (mode & S_IXOTH) != 0;
  if (who.uid == owner) return (mode & S_IXUSR) != 0;
  if (std::find(who.groups.begin(), who.groups.end(), group) != who.groups.end()) {
    return (mode & S_IXGRP) != 0;
  }
  return (mode & S_IXOTH) != 0;
}

}  // namespace gitdisc
