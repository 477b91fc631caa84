#include "providers/vsphere_vim_xml.h"

#include <cstdlib>
#include <map>

namespace gitdisc::vsphere {
namespace {

int IntOf(const std::string& s, int fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  return (end && *end == '\0') ? static_cast<int>(v) : fallback;
}

bool BoolOf(const std::string& s) { return s == "true" || s == "1"; }

// Controller key → "ide0", "sata1", "scsi0", "nvme0".
std::map<int, std::string> ControllerNames(const xmlNode* device_array) {
  std::map<int, std::string> out;
  for (const xmlNode* d = device_array ? device_array->children : nullptr; d; d = d->next) {
    if (d->type != XML_ELEMENT_NODE) continue;
    std::string type = XsiType(d);
    std::string bus;
    if (type == "VirtualIDEController") {
      bus = "ide";
    } else if (type == "VirtualAHCIController" || type == "VirtualSATAController") {
      bus = "sata";
    } else if (type == "VirtualNVMEController") {
      bus = "nvme";
    } else if (type.find("SCSIController") != std::string::npos ||
               type.find("LsiLogic") != std::string::npos || type == "VirtualBusLogicController") {
      bus = "scsi";
    } else {
      continue;
    }
    out[IntOf(ChildText(d, "key"), -1)] = bus + ChildText(d, "busNumber");
  }
  return out;
}

void ParseExtraConfig(VimVm& vm, const xmlNode* val) {
  vm.extra_config.clear();
  for (const xmlNode* o = val ? val->children : nullptr; o; o = o->next) {
    if (o->type != XML_ELEMENT_NODE) continue;
    vm.extra_config.emplace_back(ChildText(o, "key"), ChildText(o, "value"));
  }
}

}  // namespace

const std::vector<std::string>& VmPropertyPaths() {
  static const std::vector<std::string> paths = {
      "name",          "config.instanceUuid",     "config.template", "config.files.vmPathName",
      "config.extraConfig", "config.hardware.device", "runtime.powerState"};
  return paths;
}

std::vector<VimCdrom> ParseCdroms(const xmlNode* device_array) {
  std::vector<VimCdrom> out;
  std::map<int, std::string> controllers = ControllerNames(device_array);
  for (const xmlNode* d = device_array ? device_array->children : nullptr; d; d = d->next) {
    if (d->type != XML_ELEMENT_NODE || XsiType(d) != "VirtualCdrom") continue;
    VimCdrom c;
    c.key = IntOf(ChildText(d, "key"), 0);
    c.controller_key = IntOf(ChildText(d, "controllerKey"), 0);
    c.unit_number = IntOf(ChildText(d, "unitNumber"), -1);
    auto ctl = controllers.find(c.controller_key);
    c.label = ctl != controllers.end() ? ctl->second + ":" + std::to_string(c.unit_number)
                                       : "cdrom" + std::to_string(c.key);
    c.device_label = ChildText(Child(d, "deviceInfo"), "label");
    const xmlNode* backing = Child(d, "backing");
    c.backing_type = XsiType(backing);
    if (c.backing_type == "VirtualCdromIsoBackingInfo") {
      c.file_name = ChildText(backing, "fileName");
    } else {
      c.device_name = ChildText(backing, "deviceName");
    }
    const xmlNode* conn = Child(d, "connectable");
    c.connected = BoolOf(ChildText(conn, "connected"));
    c.start_connected = BoolOf(ChildText(conn, "startConnected"));
    c.allow_guest_control = conn ? BoolOf(ChildText(conn, "allowGuestControl")) : true;
    out.push_back(std::move(c));
  }
  return out;
}

void ApplyVmProperty(VimVm& vm, const std::string& name, const xmlNode* val) {
  if (name == "name") {
    vm.name = Text(val);
  } else if (name == "config.instanceUuid") {
    vm.instance_uuid = Text(val);
  } else if (name == "config.template") {
    vm.is_template = BoolOf(Text(val));
  } else if (name == "config.files.vmPathName") {
    vm.vmx_path = Text(val);
  } else if (name == "config.extraConfig") {
    ParseExtraConfig(vm, val);
  } else if (name == "config.hardware.device") {
    vm.cdroms = ParseCdroms(val);
  } else if (name == "runtime.powerState") {
    vm.power_state = Text(val);
  }
}

VimVm ParseVmObject(const xmlNode* object_content) {
  VimVm vm;
  vm.ref = RefOf(Child(object_content, "obj"));
  for (const xmlNode* p : Children(object_content, "propSet")) {
    ApplyVmProperty(vm, ChildText(p, "name"), Child(p, "val"));
  }
  return vm;
}

namespace {

void WriteCdrom(XmlWriter& w, const VmEdit::Cdrom& c) {
  w.Start("deviceChange");
  w.Element("operation", "edit");
  w.StartTyped("device", "VirtualCdrom");
  w.Int("key", c.device.key);
  // Description is optional in an edit, but the simulator dereferences it.
  w.StartTyped("deviceInfo", "Description");
  w.Element("label", c.device.device_label.empty() ? c.device.label : c.device.device_label);
  w.Element("summary", c.iso.empty() ? "empty" : "ISO " + c.iso);
  w.End();
  if (!c.iso.empty()) {
    w.StartTyped("backing", "VirtualCdromIsoBackingInfo");
    w.Element("fileName", c.iso);
    w.End();
  } else {
    // "Client device": no media on the host side, the drive reads empty.
    w.StartTyped("backing", "VirtualCdromRemotePassthroughBackingInfo");
    w.Element("deviceName", "");
    w.Bool("useAutoDetect", false);
    w.Bool("exclusive", false);
    w.End();
  }
  const bool connect = !c.iso.empty();
  w.Start("connectable");
  w.Bool("startConnected", connect);
  w.Bool("allowGuestControl", c.device.allow_guest_control);
  w.Bool("connected", connect);
  w.End();
  w.Int("controllerKey", c.device.controller_key);
  if (c.device.unit_number >= 0) w.Int("unitNumber", c.device.unit_number);
  w.End();  // device
  w.End();  // deviceChange
}

}  // namespace

void WriteVmEdit(XmlWriter& w, const VmEdit& edit) {
  w.Start("spec");
  // vim25 is a sequence: deviceChange comes before extraConfig in
  // VirtualMachineConfigSpec.
  if (edit.cdrom) WriteCdrom(w, *edit.cdrom);
  for (const auto& [key, value] : edit.extra_config) {
    w.Start("extraConfig");
    w.Element("key", key);
    w.StartTyped("value", "xsd:string");
    w.Text(value);
    w.End();
    w.End();
  }
  w.End();
}

void ParseLocalizedFault(const xmlNode* fault, std::string* type, std::string* message) {
  const xmlNode* inner = Child(fault, "fault");
  *type = XsiType(inner);
  *message = ChildText(fault, "localizedMessage");
  if (message->empty() || *message == *type) {
    // The simulator puts the Go type name there; a fault's own text is better.
    std::string text = ChildText(inner, "faultMessage");
    if (!text.empty()) *message = text;
  }
}

}  // namespace gitdisc::vsphere
