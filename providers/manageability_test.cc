#include "providers/manageability.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kOurs =
    "/var/lib/gitdisc/isos/" + std::string(64, 'a') + ".iso";  // a gitdisc image

VmInfo Vm(bool channel, std::vector<DriveInfo> cdroms, std::vector<std::string> hot_add = {}) {
  VmInfo vm;
  vm.name = "web-1";
  vm.has_agent_channel = channel;
  vm.cdroms = std::move(cdroms);
  vm.hot_add_buses = std::move(hot_add);
  vm.labels = {{"role", "web"}};
  return vm;
}

TEST(Manageability, ChannelAndAnEmptyTrayDriveIsManageable) {
  Manageability m = AssessVm(Vm(true, {{"hdc", "ide", "", false}}, {"virtio-blk"}));
  EXPECT_TRUE(m.manageable());
  EXPECT_THAT(m.supported, ElementsAre(Delivery::kCdrom, Delivery::kDisk, Delivery::kChannel));
  EXPECT_THAT(m.usable, ElementsAre(Delivery::kCdrom));  // what this gitdisc delivers with
  EXPECT_THAT(m.free, ElementsAre("hdc"));
  EXPECT_THAT(m.notes, IsEmpty());
}

TEST(Manageability, ADriveHoldingOurDiscIsFree) {
  Manageability m = AssessVm(Vm(true, {{"sda", "sata", kOurs, false}}));
  EXPECT_TRUE(m.manageable());
  EXPECT_THAT(m.free, ElementsAre("sda"));
}

TEST(Manageability, NoChannelIsLacking) {
  Manageability m = AssessVm(Vm(false, {{"hdc", "ide", "", false}}));
  EXPECT_FALSE(m.manageable());
  ASSERT_EQ(m.lacking.size(), 1u);
  EXPECT_THAT(m.lacking[0], HasSubstr("org.gitdisc.agent.0"));
}

TEST(Manageability, NoCdromIsLackingEvenWithAHotAddBusUntilHotAddIsDelivered) {
  VmInfo vm = Vm(true, {}, {"virtio-scsi"});
  Manageability m = AssessVm(vm);
  EXPECT_FALSE(m.manageable());
  EXPECT_THAT(m.supported, ElementsAre(Delivery::kDisk, Delivery::kChannel));
  ASSERT_EQ(m.lacking.size(), 1u);
  EXPECT_THAT(m.lacking[0], HasSubstr("a CD-ROM drive on a bus with a tray"));
  // Where gitdisc delivers by hot add, the same VM is manageable.
  EXPECT_TRUE(AssessVm(vm, DeliveryOptions{.cdrom = true, .disk = true}).manageable());
}

TEST(Manageability, AVirtioCdromHasNoTray) {
  Manageability m = AssessVm(Vm(true, {{"vdb", "virtio", "", false}}));
  EXPECT_FALSE(m.manageable());
  EXPECT_THAT(m.ejectable, IsEmpty());
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_THAT(m.notes[0], HasSubstr("vdb (virtio)"));
}

TEST(Manageability, ForeignMediaInEveryDriveIsNamed) {
  Manageability m = AssessVm(Vm(true, {{"hdc", "ide", "/iso/debian.iso", false}}));
  EXPECT_FALSE(m.manageable());
  EXPECT_THAT(m.ejectable, ElementsAre("hdc"));
  EXPECT_THAT(m.free, IsEmpty());
  ASSERT_EQ(m.lacking.size(), 1u);
  EXPECT_THAT(m.lacking[0], HasSubstr("hdc holds /iso/debian.iso"));
}

TEST(Manageability, NoLabelsIsANoteNotALack) {
  VmInfo vm = Vm(true, {{"hdc", "ide", "", false}});
  vm.labels.clear();
  Manageability m = AssessVm(vm);
  EXPECT_TRUE(m.manageable());
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_THAT(m.notes[0], HasSubstr("gitdisc label web-1"));
}

TEST(Manageability, NothingAtAllListsBoth) {
  Manageability m = AssessVm(Vm(false, {}));
  EXPECT_EQ(m.lacking.size(), 2u);
  EXPECT_THAT(m.supported, IsEmpty());
  EXPECT_STREQ(DeliveryName(Delivery::kDisk), "disk");
}

}  // namespace
}  // namespace gitdisc
