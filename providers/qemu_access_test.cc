#include "providers/qemu_access.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

QemuIdentity Qemu() {
  QemuIdentity q;
  q.known = true;
  q.user = "libvirt-qemu";
  q.uid = 64055;
  q.gid = 64055;
  q.groups = {64055, 107};
  return q;
}

TEST(QemuCanSearch, DecidesLikeTheKernel) {
  // A private state folder shared with QEMU's group: 0750 root:libvirt-qemu.
  EXPECT_TRUE(QemuCanSearch(Qemu(), 0750, 0, 64055));
  EXPECT_TRUE(QemuCanSearch(Qemu(), 0750, 0, 107)) << "kvm: a supplementary group";
  EXPECT_FALSE(QemuCanSearch(Qemu(), 0750, 0, 0)) << "0750 root:root shuts QEMU out";
  EXPECT_TRUE(QemuCanSearch(Qemu(), 0755, 0, 0));
  EXPECT_TRUE(QemuCanSearch(Qemu(), 0700, 64055, 0)) << "owned by QEMU's user";
  EXPECT_FALSE(QemuCanSearch(Qemu(), 0707, 0, 64055)) << "group bits decide for a member";
  QemuIdentity unknown;
  EXPECT_TRUE(QemuCanSearch(unknown, 0751, 0, 0));
  EXPECT_FALSE(QemuCanSearch(unknown, 0750, 0, 64055));
}

}  // namespace
}  // namespace gitdisc
