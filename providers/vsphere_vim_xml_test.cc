// vim25 XML of the vSphere provider, on answers captured from govmomi's
// vCenter simulator (0.24) and on hand-written real-vCenter shapes.
#include "providers/vsphere_vim_xml.h"

#include <gtest/gtest.h>

namespace gitdisc::vsphere {
namespace {

// A RetrievePropertiesEx answer as the simulator sends it (note its odd
// prefix for the XML Schema instance namespace), trimmed to two devices plus
// controllers, with an ISO in the drive and a label in extraConfig.
constexpr char kVmAnswer[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-57</obj>
<propSet><name>name</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="xsd:string">DC0_H0_VM0</val></propSet>
<propSet><name>config.instanceUuid</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="xsd:string">b4689bed-97f0-5bcd-8a4c-07477cc8f06f</val></propSet>
<propSet><name>config.template</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="xsd:boolean">false</val></propSet>
<propSet><name>config.files.vmPathName</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="xsd:string">[LocalDS_0] DC0_H0_VM0/DC0_H0_VM0.vmx</val></propSet>
<propSet><name>config.extraConfig</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfOptionValue"><OptionValue XMLSchema-instance:type="OptionValue"><key>govcsim</key><value XMLSchema-instance:type="xsd:string">TRUE</value></OptionValue><OptionValue XMLSchema-instance:type="OptionValue"><key>gitdisc.label.role</key><value XMLSchema-instance:type="xsd:string">web</value></OptionValue><OptionValue XMLSchema-instance:type="OptionValue"><key>gitdisc.label.env</key><value XMLSchema-instance:type="xsd:string">prod</value></OptionValue><OptionValue XMLSchema-instance:type="OptionValue"><key>gitdisc.label.env</key><value XMLSchema-instance:type="xsd:string"></value></OptionValue></val></propSet>
<propSet><name>config.hardware.device</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="ArrayOfVirtualDevice">
<VirtualDevice XMLSchema-instance:type="VirtualIDEController"><key>200</key><deviceInfo XMLSchema-instance:type="Description"><label>IDE 0</label><summary>IDE 0</summary></deviceInfo><busNumber>0</busNumber></VirtualDevice>
<VirtualDevice XMLSchema-instance:type="ParaVirtualSCSIController"><key>202</key><deviceInfo XMLSchema-instance:type="Description"><label>pvscsi-202</label><summary>pvscsi-202</summary></deviceInfo><busNumber>0</busNumber></VirtualDevice>
<VirtualDevice XMLSchema-instance:type="VirtualCdrom"><key>1697971134</key><deviceInfo XMLSchema-instance:type="Description"><label>cdrom-1697971134</label><summary>ISO [LocalDS_0] gitdisc/ab.iso</summary></deviceInfo><backing XMLSchema-instance:type="VirtualCdromIsoBackingInfo"><fileName>[LocalDS_0] gitdisc/ab.iso</fileName></backing><connectable><startConnected>true</startConnected><allowGuestControl>true</allowGuestControl><connected>true</connected></connectable><controllerKey>202</controllerKey><unitNumber>0</unitNumber></VirtualDevice>
<VirtualDevice XMLSchema-instance:type="VirtualCdrom"><key>3001</key><deviceInfo XMLSchema-instance:type="Description"><label>CD/DVD drive 2</label><summary>Remote ATAPI</summary></deviceInfo><backing XMLSchema-instance:type="VirtualCdromAtapiBackingInfo"><deviceName>/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0</deviceName><useAutoDetect>false</useAutoDetect></backing><connectable><startConnected>true</startConnected><allowGuestControl>false</allowGuestControl><connected>true</connected></connectable><controllerKey>200</controllerKey><unitNumber>1</unitNumber></VirtualDevice>
</val></propSet>
<propSet><name>runtime.powerState</name><val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" XMLSchema-instance:type="VirtualMachinePowerState">poweredOn</val></propSet>
</objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>)";

const xmlNode* Objects(const XmlDoc& doc) {
  const xmlNode* body = Child(xmlDocGetRootElement(doc.get()), "Body");
  return Child(Child(FirstChildElement(body), "returnval"), "objects");
}

TEST(VsphereVimXml, ReadsAVirtualMachineAsTheSimulatorSendsIt) {
  auto doc = ParseXml(kVmAnswer, "test");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  VimVm vm = ParseVmObject(Objects(*doc));
  EXPECT_EQ(vm.ref, (MoRef{"VirtualMachine", "vm-57"}));
  EXPECT_EQ(vm.name, "DC0_H0_VM0");
  EXPECT_EQ(vm.instance_uuid, "b4689bed-97f0-5bcd-8a4c-07477cc8f06f");
  EXPECT_FALSE(vm.is_template);
  EXPECT_EQ(vm.power_state, "poweredOn");
  EXPECT_EQ(DatastoreOfPath(vm.vmx_path), "LocalDS_0");
  EXPECT_EQ(RelativeOfPath(vm.vmx_path), "DC0_H0_VM0/DC0_H0_VM0.vmx");
  // The last occurrence wins and "" unsets (the simulator appends keys).
  EXPECT_EQ(LabelsOf(vm), (std::map<std::string, std::string>{{"role", "web"}}));
  EXPECT_EQ(vm.Extra("gitdisc.label.env"), std::nullopt);
  EXPECT_EQ(vm.Extra("govcsim"), "TRUE");
  ASSERT_EQ(vm.cdroms.size(), 2u);
  EXPECT_EQ(vm.cdroms[0].label, "scsi0:0");
  EXPECT_EQ(vm.cdroms[0].key, 1697971134);
  EXPECT_EQ(vm.cdroms[0].controller_key, 202);
  EXPECT_EQ(CdromSource(vm.cdroms[0]), "[LocalDS_0] gitdisc/ab.iso");
  EXPECT_EQ(vm.cdroms[1].label, "ide0:1");
  EXPECT_EQ(vm.cdroms[1].device_label, "CD/DVD drive 2");
  EXPECT_FALSE(vm.cdroms[1].allow_guest_control);
  EXPECT_EQ(CdromSource(vm.cdroms[1]), "host-device:/vmfs/devices/cdrom/mpx.vmhba0:C0:T0:L0");
}

TEST(VsphereVimXml, EmptyDrivesAreEmpty) {
  VimCdrom placeholder{1, 202, 0, "scsi0:0", "cdrom-1", "VirtualCdromAtapiBackingInfo", "",
                       "cdrom--201-824634967808", true, true, true};
  EXPECT_EQ(CdromSource(placeholder), "");
  VimCdrom client{1, 200, 0, "ide0:0", "", "VirtualCdromRemotePassthroughBackingInfo", "", "",
                  false, false, true};
  EXPECT_EQ(CdromSource(client), "");
  VimCdrom host_disconnected = placeholder;
  host_disconnected.device_name = "/dev/cdrom";
  host_disconnected.connected = false;
  EXPECT_EQ(CdromSource(host_disconnected), "");
}

TEST(VsphereVimXml, WritesAnInsertSpecInSchemaOrderWithValuesEscaped) {
  VmEdit edit;
  VimCdrom drive{3002, 200, 0, "ide0:0", "CD/DVD drive 1", "", "", "", false, false, true};
  edit.cdrom = VmEdit::Cdrom{drive, "[ds <&>] gitdisc/x.iso"};
  edit.extra_config = {{"gitdisc.label.role", "a<b&c\"d"}};
  XmlWriter w("ReconfigVM_Task");
  w.Ref("_this", MoRef{"VirtualMachine", "vm-1"});
  WriteVmEdit(w, edit);
  auto xml = w.Finish();
  ASSERT_TRUE(xml.ok());
  auto doc = ParseXml(*xml, "written");
  ASSERT_TRUE(doc.ok()) << *xml;
  const xmlNode* call = FirstChildElement(Child(xmlDocGetRootElement(doc->get()), "Body"));
  ASSERT_TRUE(IsElement(call, "ReconfigVM_Task"));
  EXPECT_EQ(RefOf(Child(call, "_this")), (MoRef{"VirtualMachine", "vm-1"}));
  const xmlNode* spec = Child(call, "spec");
  const xmlNode* first = FirstChildElement(spec);
  ASSERT_TRUE(IsElement(first, "deviceChange")) << "deviceChange precedes extraConfig";
  const xmlNode* device = Child(first, "device");
  EXPECT_EQ(XsiType(device), "VirtualCdrom");
  EXPECT_EQ(ChildText(device, "key"), "3002");
  EXPECT_EQ(XsiType(Child(device, "backing")), "VirtualCdromIsoBackingInfo");
  EXPECT_EQ(ChildText(Child(device, "backing"), "fileName"), "[ds <&>] gitdisc/x.iso");
  EXPECT_EQ(ChildText(Child(device, "connectable"), "connected"), "true");
  EXPECT_EQ(ChildText(Child(device, "deviceInfo"), "label"), "CD/DVD drive 1");
  const xmlNode* extra = Child(spec, "extraConfig");
  EXPECT_EQ(ChildText(extra, "value"), "a<b&c\"d");
  EXPECT_EQ(XsiType(Child(extra, "value")), "string");
}

TEST(VsphereVimXml, WritesAnEjectAsADisconnectedClientDevice) {
  VmEdit edit;
  edit.cdrom = VmEdit::Cdrom{VimCdrom{3002, 200, 0, "ide0:0", "d", "", "", "", true, true, true}, ""};
  XmlWriter w("ReconfigVM_Task");
  WriteVmEdit(w, edit);
  auto xml = w.Finish();
  ASSERT_TRUE(xml.ok());
  auto doc = ParseXml(*xml, "written");
  ASSERT_TRUE(doc.ok());
  const xmlNode* device = Child(
      Child(Child(FirstChildElement(Child(xmlDocGetRootElement(doc->get()), "Body")), "spec"),
            "deviceChange"),
      "device");
  EXPECT_EQ(XsiType(Child(device, "backing")), "VirtualCdromRemotePassthroughBackingInfo");
  EXPECT_EQ(ChildText(Child(device, "connectable"), "connected"), "false");
  EXPECT_EQ(ChildText(Child(device, "connectable"), "startConnected"), "false");
}

TEST(VsphereVimXml, ReadsATaskFault) {
  auto doc = ParseXml(
      R"(<val xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="LocalizedMethodFault"><fault xsi:type="InvalidDeviceSpec"><deviceIndex>0</deviceIndex></fault><localizedMessage>Invalid configuration for device '0'.</localizedMessage></val>)",
      "fault");
  ASSERT_TRUE(doc.ok());
  std::string type, msg;
  ParseLocalizedFault(xmlDocGetRootElement(doc->get()), &type, &msg);
  EXPECT_EQ(type, "InvalidDeviceSpec");
  EXPECT_EQ(msg, "Invalid configuration for device '0'.");
}

TEST(VsphereVimXml, RefusesDocumentTypeDeclarationsAndGarbage) {
  EXPECT_FALSE(ParseXml(R"(<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>)", "dtd").ok());
  EXPECT_FALSE(ParseXml("<a><b></a>", "broken").ok());
  EXPECT_FALSE(ParseXml("", "empty").ok());
}

}  // namespace
}  // namespace gitdisc::vsphere
