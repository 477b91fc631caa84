// Unit tests of the pure libvirt XML translation (no libvirt calls). The
// domain XML below was captured from libvirt 9.0 (virsh dumpxml of a running
// test domain after `virsh change-media … --insert`).
#include "providers/domain_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr char kLiveDomain[] = R"(<domain type='qemu' id='6'>
  <name>gitdisc-test-probe-live</name>
  <uuid>0a93b644-acc1-43ad-b094-1db46a3d3ca7</uuid>
  <metadata>
    <g:labels xmlns:g="urn:gitdisc:labels:1">
      <g:label key="role" value="web"/>
      <g:label key="env" value="prod &amp; test"/>
    </g:labels>
    <other:thing xmlns:other="urn:someone:else"><other:label key="no" value="no"/></other:thing>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/tmp/gdprobe/a.iso' index='3'/>
      <backingStore/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
      <alias name='ide0-1-0'/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu'/>
      <target dev='hdd' bus='ide' tray='open'/>
      <readonly/>
      <alias name='ide0-1-1'/>
      <address type='drive' controller='0' bus='1' target='0' unit='1'/>
    </disk>
    <controller type='virtio-serial' index='0'>
      <alias name='virtio-serial0'/>
    </controller>
    <channel type='unix'>
      <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-6-gitdisc-test-probe-l/org.gitdisc.agent.0'/>
      <target type='virtio' name='org.gitdisc.agent.0' state='disconnected'/>
      <alias name='channel0'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>
)";

TEST(DomainXml, ParsesNameUuidLabelsCdromsAndChannel) {
  auto d = ParseDomainXml(kLiveDomain);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "gitdisc-test-probe-live");
  EXPECT_EQ(d->uuid, "0a93b644-acc1-43ad-b094-1db46a3d3ca7");
  EXPECT_THAT(d->labels, ElementsAre(Pair("env", "prod & test"), Pair("role", "web")));
  ASSERT_EQ(d->cdroms.size(), 2u);  // the virtio disk is not a CD-ROM
  EXPECT_EQ(d->cdroms[0], (DriveInfo{"hdc", "ide", "/tmp/gdprobe/a.iso", false}));
  EXPECT_EQ(d->cdroms[1], (DriveInfo{"hdd", "ide", "", true}));
  EXPECT_TRUE(d->has_agent_channel);
}

// A q35 definition captured from libvirt 9.0 (virsh dumpxml --inactive):
// five pcie-root-ports (index 1-5), devices behind ports 1-4.
constexpr char kQ35Definition[] = R"(<domain type='qemu'>
  <name>prov-probe-q35</name>
  <uuid>da7f1ee4-ccce-4703-ae49-e4aee7e855ba</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/tmp/prov/x.img'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </controller>
    <controller type='usb' index='0' model='qemu-xhci'>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </controller>
    <controller type='sata' index='0'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
    </controller>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='1' port='0x8'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0' multifunction='on'/>
    </controller>
    <controller type='pci' index='2' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='2' port='0x9'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/>
    </controller>
    <controller type='pci' index='3' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='3' port='0xa'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>
    </controller>
    <controller type='pci' index='4' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='4' port='0xb'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x3'/>
    </controller>
    <controller type='pci' index='5' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='5' port='0xc'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x4'/>
    </controller>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <audio id='1' type='none'/>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </memballoon>
  </devices>
</domain>

)";

TEST(DomainXml, ReadsMachineDiskTargetsAndHotAddBuses) {
  auto live = ParseDomainXml(kLiveDomain);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->machine, "pc-i440fx-7.2");
  EXPECT_THAT(live->disk_targets, ElementsAre("vda", "hdc", "hdd"));
  EXPECT_THAT(live->hot_add_buses, ElementsAre("virtio-blk"));  // i440fx: ACPI hotplug

  auto q35 = ParseDomainXml(kQ35Definition);
  ASSERT_TRUE(q35.ok());
  EXPECT_EQ(q35->machine, "pc-q35-7.2");
  EXPECT_TRUE(q35->cdroms.empty());
  EXPECT_FALSE(q35->has_agent_channel);
  // virtio-scsi controller, and root port 5 has nothing behind it.
  EXPECT_THAT(q35->hot_add_buses, ElementsAre("virtio-scsi", "virtio-blk"));
}

TEST(DomainXml, Q35WithEveryRootPortTakenHasNoHotAddBus) {
  std::string xml = kQ35Definition;
  // Drop the virtio-scsi controller, the port it sat behind (1), and port 5.
  auto cut = [&xml](const std::string& from, const std::string& to) {
    size_t a = xml.find(from);
    ASSERT_NE(a, std::string::npos) << from;
    size_t b = xml.find(to, a);
    ASSERT_NE(b, std::string::npos) << to;
    xml.erase(a, b + to.size() - a);
  };
  cut("<controller type='scsi'", "</controller>");
  cut("<controller type='pci' index='1'", "</controller>");
  cut("<controller type='pci' index='5'", "</controller>");
  auto d = ParseDomainXml(xml);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->hot_add_buses.empty());
}

TEST(DomainXml, AgentChannelXmlIsTheChannelParsingLooksFor) {
  EXPECT_EQ(AgentChannelXml(),
            "<channel type=\"unix\"><source mode=\"bind\"/>"
            "<target type=\"virtio\" name=\"org.gitdisc.agent.0\"/></channel>");
  auto d = ParseDomainXml("<domain><uuid>u</uuid><devices>" + AgentChannelXml() +
                          "</devices></domain>");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_agent_channel);
}

TEST(DomainXml, FindsDriveAlias) {
  EXPECT_EQ(FindDriveAlias(kLiveDomain, "hdc"), "ide0-1-0");
  EXPECT_EQ(FindDriveAlias(kLiveDomain, "hdd"), "ide0-1-1");
  EXPECT_EQ(FindDriveAlias(kLiveDomain, "vda"), "");  // no alias in the sample
  EXPECT_EQ(FindDriveAlias(kLiveDomain, "hdz"), "");
  EXPECT_EQ(FindDriveAlias("garbage", "hdc"), "");
}

TEST(DomainXml, NoMetadataNoChannelMeansNoLabelsNoAgent) {
  auto d = ParseDomainXml(
      "<domain type='qemu'><name>x</name><uuid>u-1</uuid><devices>"
      "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
      "</devices></domain>");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->labels.empty());
  EXPECT_TRUE(d->cdroms.empty());
  EXPECT_FALSE(d->has_agent_channel);
}

TEST(DomainXml, LabelsInAnotherPrefixAreFoundByNamespace) {
  auto d = ParseDomainXml(
      "<domain><uuid>u</uuid><metadata><x:labels xmlns:x='urn:gitdisc:labels:1'>"
      "<x:label key='a' value='1'/></x:labels></metadata></domain>");
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->labels, ElementsAre(Pair("a", "1")));
}

TEST(DomainXml, RejectsGarbageAndNonDomains) {
  EXPECT_EQ(ParseDomainXml("<domain><uuid>").status().code(), Status::Code::kInvalid);
  EXPECT_EQ(ParseDomainXml("<network><uuid>u</uuid></network>").status().code(),
            Status::Code::kInvalid);
  EXPECT_EQ(ParseDomainXml("<domain><name>no uuid</name></domain>").status().code(),
            Status::Code::kInvalid);
  EXPECT_FALSE(ParseDomainXml("").ok());
}

TEST(DomainXml, DoesNotExpandExternalEntities) {
  auto d = ParseDomainXml(
      "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
      "<domain><name>&e;</name><uuid>u</uuid></domain>");
  if (d.ok()) {
    EXPECT_EQ(d->name.find("root:"), std::string::npos);
  }
}

TEST(LabelsXml, WritesTheDesignFormatSortedAndEscaped) {
  EXPECT_EQ(LabelsXml({{"role", "web"}}),
            "<g:labels xmlns:g=\"urn:gitdisc:labels:1\"><g:label key=\"role\" "
            "value=\"web\"/></g:labels>");
  // libxml2 escapes what could end the double-quoted attribute or open markup.
  EXPECT_EQ(LabelsXml({{"b", "<\"&'>"}, {"a", ""}}),
            "<g:labels xmlns:g=\"urn:gitdisc:labels:1\"><g:label key=\"a\" value=\"\"/>"
            "<g:label key=\"b\" value=\"&lt;&quot;&amp;'&gt;\"/></g:labels>");
  EXPECT_EQ(LabelsXml({}), "<g:labels xmlns:g=\"urn:gitdisc:labels:1\"></g:labels>");
}

TEST(LabelsXml, AValueCannotAddMarkup) {
  std::map<std::string, std::string> labels = {{"role", "x\"/><g:label key=\"admin\" value=\"yes"},
                                               {"k'", "a'b"}};
  auto back = ParseLabelsXml(LabelsXml(labels));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, labels);
  auto body = ParseLabelsXml(LabelsMetadataBody(labels));
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, labels);
}

TEST(LabelsXml, MetadataBodyHasNoPrefix) {
  EXPECT_EQ(LabelsMetadataBody({{"role", "web"}}),
            "<labels><label key=\"role\" value=\"web\"/></labels>");
}

TEST(LabelsXml, RoundTripsBothForms) {
  std::map<std::string, std::string> labels = {
      {"role", "web"}, {"env", "a&b<c>"}, {"quote", "\"'"}, {"utf8", "caf\xc3\xa9"}};
  auto a = ParseLabelsXml(LabelsXml(labels));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, labels);
  auto b = ParseLabelsXml(LabelsMetadataBody(labels));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, labels);
  // What virDomainGetMetadata returns (pretty-printed, no namespace).
  auto c = ParseLabelsXml("<labels>\n  <label key=\"a\" value=\"c\"/>\n</labels>\n");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(*c, ElementsAre(Pair("a", "c")));
}

TEST(LabelsXml, RejectsForeignElementsAndKeylessLabels) {
  EXPECT_FALSE(ParseLabelsXml("<x:labels xmlns:x='urn:other'/>").ok());
  EXPECT_FALSE(ParseLabelsXml("<tags/>").ok());
  EXPECT_FALSE(ParseLabelsXml("<labels><label value='v'/></labels>").ok());
  EXPECT_FALSE(ParseLabelsXml("<labels><label key='' value='v'/></labels>").ok());
}

TEST(LabelsXml, ValidatesKeysAndValues) {
  EXPECT_TRUE(ValidateLabel("role", "web").ok());
  EXPECT_TRUE(ValidateLabel("example.com/tier", "").ok());
  EXPECT_FALSE(ValidateLabel("", "x").ok());
  EXPECT_FALSE(ValidateLabel("a=b", "x").ok());
  EXPECT_FALSE(ValidateLabel("a\nb", "x").ok());
  EXPECT_FALSE(ValidateLabel("a", std::string(2000, 'v')).ok());
}

TEST(CdromDiskXml, InsertAndEjectKeepTargetAndBus) {
  DriveInfo hdc{"hdc", "ide", "", false};
  EXPECT_EQ(CdromDiskXml(hdc, "/var/lib/gitdisc/isos/ab'c&\".iso"),
            "<disk type=\"file\" device=\"cdrom\"><driver name=\"qemu\" type=\"raw\"/>"
            "<source file=\"/var/lib/gitdisc/isos/ab'c&amp;&quot;.iso\"/>"
            "<target dev=\"hdc\" bus=\"ide\"/><readonly/></disk>");
  EXPECT_EQ(CdromDiskXml(hdc, ""),
            "<disk type=\"file\" device=\"cdrom\"><driver name=\"qemu\" type=\"raw\"/>"
            "<target dev=\"hdc\" bus=\"ide\"/><readonly/></disk>");
  // The generated XML parses back as the same drive.
  auto d = ParseDomainXml("<domain><uuid>u</uuid><devices>" + CdromDiskXml(hdc, "/x'<y>.iso") +
                          "</devices></domain>");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->cdroms.size(), 1u);
  EXPECT_EQ(d->cdroms[0], (DriveInfo{"hdc", "ide", "/x'<y>.iso", false}));
}

TEST(VmKey, SplitsAtTheLastSlash) {
  std::string host, uuid;
  ASSERT_TRUE(SplitVmKey("qemu+tcp://127.0.0.1/system/0a93-b6", &host, &uuid).ok());
  EXPECT_EQ(host, "qemu+tcp://127.0.0.1/system");
  EXPECT_EQ(uuid, "0a93-b6");
  EXPECT_EQ(MakeVmKey(host, uuid), "qemu+tcp://127.0.0.1/system/0a93-b6");
  EXPECT_FALSE(SplitVmKey("nouuid", &host, &uuid).ok());
  EXPECT_FALSE(SplitVmKey("qemu:///system/", &host, &uuid).ok());
}

TEST(DriveBusy, IsRecognisedByCodeAndWord) {
  EXPECT_TRUE(IsDriveBusy(Status::Conflict("DriveBusy: hdc holds /x")));
  EXPECT_FALSE(IsDriveBusy(Status::Conflict("not running")));
  EXPECT_FALSE(IsDriveBusy(Status::Internal("DriveBusy")));
}

}  // namespace
}  // namespace gitdisc
