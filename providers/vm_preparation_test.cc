#include "providers/vm_preparation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ParsedDomain Definition(bool channel, std::vector<DriveInfo> cdroms,
                        std::string machine = "pc-i440fx-7.2") {
  ParsedDomain d;
  d.name = "web-1";
  d.uuid = "u";
  d.machine = std::move(machine);
  d.has_agent_channel = channel;
  d.disk_targets = {"vda"};
  for (const DriveInfo& c : cdroms) d.disk_targets.push_back(c.target);
  d.cdroms = std::move(cdroms);
  return d;
}

TEST(VmPreparation, APreparedDefinitionNeedsNothing) {
  auto add = DevicesToAdd(Definition(true, {{"hdc", "ide", "", false}}), "");
  ASSERT_TRUE(add.ok());
  EXPECT_THAT(*add, IsEmpty());
}

TEST(VmPreparation, AddsTheChannelThenACdromOnAFreeTarget) {
  auto add = DevicesToAdd(Definition(false, {}), "");
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  ASSERT_EQ(add->size(), 2u);
  EXPECT_EQ((*add)[0], AgentChannelXml());
  EXPECT_EQ((*add)[1], CdromDiskXml({"hda", "ide", "", false}, ""));  // i440fx: IDE
}

TEST(VmPreparation, AddsADriveBesideOneHoldingTheUsersMedia) {
  auto add = DevicesToAdd(Definition(true, {{"hdc", "ide", "/iso/installer.iso", false}}), "");
  ASSERT_TRUE(add.ok());
  // The bus of the VM's own CD-ROM, the first IDE name not in use.
  EXPECT_THAT(*add, ElementsAre(CdromDiskXml({"hda", "ide", "", false}, "")));
}

TEST(VmPreparation, Q35GetsSataAndTheBusCanBeChosen) {
  auto q35 = DevicesToAdd(Definition(true, {}, "pc-q35-7.2"), "");
  ASSERT_TRUE(q35.ok());
  EXPECT_THAT(*q35, ElementsAre(CdromDiskXml({"sda", "sata", "", false}, "")));
  auto scsi = DevicesToAdd(Definition(true, {}), "scsi");
  ASSERT_TRUE(scsi.ok());
  EXPECT_THAT(*scsi, ElementsAre(CdromDiskXml({"sda", "scsi", "", false}, "")));
}

TEST(VmPreparation, AVirtioCdromDoesNotCount) {
  auto add = DevicesToAdd(Definition(true, {{"vdb", "virtio", "", false}}), "sata");
  ASSERT_TRUE(add.ok());
  EXPECT_THAT(*add, ElementsAre(CdromDiskXml({"sda", "sata", "", false}, "")));
}

TEST(VmPreparation, UnknownBusAndFullBusAreErrors) {
  EXPECT_EQ(DevicesToAdd(Definition(true, {}), "virtio").status().code(),
            Status::Code::kInvalid);
  ParsedDomain full = Definition(true, {});
  full.disk_targets = {"hda", "hdb", "hdc", "hdd"};
  auto add = DevicesToAdd(full, "ide");
  EXPECT_EQ(add.status().code(), Status::Code::kConflict);
  EXPECT_THAT(add.status().message(), HasSubstr("--cdrom-bus"));
  EXPECT_EQ(FreeDiskTarget("sata", {"sda", "sdb"}), "sdc");
}

}  // namespace
}  // namespace gitdisc
