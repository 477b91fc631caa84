#include "reconciler/observed.h"

#include <gtest/gtest.h>

namespace gitdisc::reconciler {
namespace {

TEST(ObservedFromInfo, KeepsOnlyDrivesWithATrayAndSaysWhetherTheChannelExists) {
  VmInfo info;
  info.key = "qemu:///system/u";
  info.name = "vm";
  info.state = VmInfo::kRunning;
  info.has_agent_channel = false;
  info.hot_add_buses = {"virtio-blk"};
  info.cdroms = {{"vdb", "virtio", "", false}, {"sda", "sata", "", false}};
  ObservedVm o = ObservedFromInfo(info, {"/var/lib/gitdisc/isos"});
  EXPECT_FALSE(o.has_agent_channel);
  ASSERT_EQ(o.drives.size(), 1u);
  EXPECT_EQ(o.drives[0].target, "sda");
  // Hot add reaches it, but gitdisc does not deliver that way unless told to.
  EXPECT_TRUE(o.other_delivery.empty());
  ObservedVm with_disk = ObservedFromInfo(info, {}, DeliveryOptions{.cdrom = true, .disk = true});
  EXPECT_EQ(with_disk.other_delivery, (std::vector<std::string>{"disk"}));
}

}  // namespace
}  // namespace gitdisc::reconciler
