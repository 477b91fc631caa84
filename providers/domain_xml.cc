#include "providers/domain_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "providers/xml_writer.h"

namespace gitdisc {
namespace {

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocFree>;

Result<XmlDoc> Parse(std::string_view xml, const char* what) {
  if (xml.size() > (64u << 20)) return Status::Invalid(std::string(what) + ": XML too large");
  // No network, no entity substitution, no error printing: libvirt's XML is
  // trusted but labels come from users.
  XmlDoc doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc || !xmlDocGetRootElement(doc.get())) {
    return Status::Invalid(std::string(what) + ": not well-formed XML");
  }
  return doc;
}

bool IsElement(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

std::string Attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, BAD_CAST name);
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

bool HasAttr(const xmlNode* n, const char* name) { return xmlHasProp(n, BAD_CAST name) != nullptr; }

std::string Text(const xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

const xmlNode* Child(const xmlNode* n, const char* name) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (IsElement(c, name)) return c;
  }
  return nullptr;
}

bool InLabelsNs(const xmlNode* n) {
  return n->ns && n->ns->href && xmlStrcmp(n->ns->href, BAD_CAST kLabelsNamespace) == 0;
}

Result<std::map<std::string, std::string>> LabelsFromElement(const xmlNode* labels) {
  std::map<std::string, std::string> out;
  for (const xmlNode* c = labels->children; c; c = c->next) {
    if (!IsElement(c, "label")) continue;
    // Children carry the namespace when written as DESIGN.md §3 shows; be
    // lenient with un-prefixed children of the labels element.
    if (c->ns && !InLabelsNs(c)) continue;
    if (!HasAttr(c, "key")) return Status::Invalid("labels: <label> without key");
    std::string key = Attr(c, "key");
    if (key.empty()) return Status::Invalid("labels: <label> with an empty key");
    out[key] = Attr(c, "value");
  }
  return out;
}

DriveInfo DriveFromDisk(const xmlNode* disk) {
  DriveInfo d;
  if (const xmlNode* t = Child(disk, "target")) {
    d.target = Attr(t, "dev");
    d.bus = Attr(t, "bus");
    d.tray_open = Attr(t, "tray") == "open";
  }
  if (const xmlNode* s = Child(disk, "source")) {
    if (HasAttr(s, "file")) {
      d.source = Attr(s, "file");
    } else if (HasAttr(s, "dev")) {
      d.source = Attr(s, "dev");
    } else if (HasAttr(s, "volume")) {
      d.source = "volume:" + Attr(s, "pool") + "/" + Attr(s, "volume");
    } else if (HasAttr(s, "name")) {  // network disks
      d.source = Attr(s, "protocol") + ":" + Attr(s, "name");
    } else if (HasAttr(s, "dir")) {
      d.source = Attr(s, "dir");
    }
  }
  return d;
}

// Whether an i440fx-style machine: its root PCI bus takes hot-plugged devices.
bool HasHotplugRootBus(const std::string& machine) {
  return machine == "pc" || machine.rfind("pc-i440fx", 0) == 0 ||
         (machine.rfind("pc-", 0) == 0 && machine.find("q35") == std::string::npos);
}

// A <controller type='pci' model='pcie-root-port' index='N'> that no
// device's <address type='pci' bus='0xN'> sits behind.
bool HasFreeRootPort(const xmlNode* devices) {
  std::vector<unsigned long> ports, used;
  for (const xmlNode* c = devices->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (IsElement(c, "controller") && Attr(c, "type") == "pci" &&
        Attr(c, "model") == "pcie-root-port") {
      ports.push_back(std::strtoul(Attr(c, "index").c_str(), nullptr, 10));
    }
    const xmlNode* a = Child(c, "address");
    if (a && Attr(a, "type") == "pci" && HasAttr(a, "bus")) {
      used.push_back(std::strtoul(Attr(a, "bus").c_str(), nullptr, 16));
    }
  }
  for (unsigned long p : ports) {
    if (std::find(used.begin(), used.end(), p) == used.end()) return true;
  }
  return false;
}

std::vector<std::string> HotAddBuses(const xmlNode* devices, const std::string& machine) {
  std::vector<std::string> out;
  for (const xmlNode* c = devices->children; c; c = c->next) {
    if (IsElement(c, "controller") && Attr(c, "type") == "scsi" &&
        Attr(c, "model") == "virtio-scsi") {
      out.push_back("virtio-scsi");
      break;
    }
  }
  if (HasHotplugRootBus(machine) || HasFreeRootPort(devices)) out.push_back("virtio-blk");
  return out;
}

void ReadDevices(const xmlNode* devices, ParsedDomain* out) {
  for (const xmlNode* c = devices->children; c; c = c->next) {
    if (IsElement(c, "disk")) {
      if (const xmlNode* t = Child(c, "target")) out->disk_targets.push_back(Attr(t, "dev"));
      if (Attr(c, "device") == "cdrom") out->cdroms.push_back(DriveFromDisk(c));
    } else if (IsElement(c, "channel")) {
      const xmlNode* t = Child(c, "target");
      if (t && Attr(t, "type") == "virtio" && Attr(t, "name") == kAgentChannelName) {
        out->has_agent_channel = true;
      }
    }
  }
  out->hot_add_buses = HotAddBuses(devices, out->machine);
}

}  // namespace

Result<ParsedDomain> ParseDomainXml(std::string_view xml) {
  GITDISC_ASSIGN_OR_RETURN(XmlDoc doc, Parse(xml, "domain XML"));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!IsElement(root, "domain")) return Status::Invalid("domain XML: root is not <domain>");
  ParsedDomain out;
  if (const xmlNode* n = Child(root, "name")) out.name = Text(n);
  if (const xmlNode* n = Child(root, "uuid")) out.uuid = Text(n);
  if (const xmlNode* md = Child(root, "metadata")) {
    for (const xmlNode* c = md->children; c; c = c->next) {
      if (IsElement(c, "labels") && InLabelsNs(c)) {
        GITDISC_ASSIGN_OR_RETURN(out.labels, LabelsFromElement(c));
      }
    }
  }
  if (const xmlNode* os = Child(root, "os")) {
    if (const xmlNode* type = Child(os, "type")) out.machine = Attr(type, "machine");
  }
  if (const xmlNode* devices = Child(root, "devices")) ReadDevices(devices, &out);
  if (out.uuid.empty()) return Status::Invalid("domain XML: no <uuid>");
  return out;
}

Result<std::map<std::string, std::string>> ParseLabelsXml(std::string_view xml) {
  GITDISC_ASSIGN_OR_RETURN(XmlDoc doc, Parse(xml, "labels XML"));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  // virDomainGetMetadata returns the element without its namespace; the
  // domain XML form carries it. Accept both, but no other namespace.
  if (!IsElement(root, "labels") || (root->ns && !InLabelsNs(root))) {
    return Status::Invalid(std::string("labels XML: root is not <labels> in ") + kLabelsNamespace);
  }
  return LabelsFromElement(root);
}

std::string LabelsXml(const std::map<std::string, std::string>& labels) {
  XmlWriter w;
  w.StartNs("g", "labels", kLabelsNamespace);
  for (const auto& [k, v] : labels) w.StartNs("g", "label").Attr("key", k).Attr("value", v).End();
  w.EndFull();
  return w.Finish();
}

std::string LabelsMetadataBody(const std::map<std::string, std::string>& labels) {
  XmlWriter w;
  w.Start("labels");
  for (const auto& [k, v] : labels) w.Start("label").Attr("key", k).Attr("value", v).End();
  w.EndFull();
  return w.Finish();
}

Status ValidateLabel(std::string_view key, std::string_view value) {
  auto has_control = [](std::string_view s) {
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
  };
  if (key.empty()) return Status::Invalid("label key is empty");
  if (key.size() > 253) return Status::Invalid("label key longer than 253 bytes");
  if (value.size() > 1024)
    return Status::Invalid("label '" + std::string(key) + "': value longer than 1024 bytes");
  if (has_control(key) || has_control(value)) {
    return Status::Invalid("label '" + std::string(key) + "': control characters not allowed");
  }
  if (key.find('=') != std::string_view::npos) {
    return Status::Invalid("label key '" + std::string(key) + "' contains '='");
  }
  return Status::Ok();
}

std::string FindDriveAlias(std::string_view xml, std::string_view target) {
  auto doc = Parse(xml, "domain XML");
  if (!doc.ok()) return {};
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  const xmlNode* devices = IsElement(root, "domain") ? Child(root, "devices") : nullptr;
  if (!devices) return {};
  for (const xmlNode* c = devices->children; c; c = c->next) {
    if (!IsElement(c, "disk")) continue;
    const xmlNode* t = Child(c, "target");
    const xmlNode* a = Child(c, "alias");
    if (t && a && Attr(t, "dev") == target) return Attr(a, "name");
  }
  return {};
}

std::string AgentChannelXml() {
  XmlWriter w;
  w.Start("channel").Attr("type", "unix");
  w.Start("source").Attr("mode", "bind").End();
  w.Start("target").Attr("type", "virtio").Attr("name", kAgentChannelName).End();
  return w.Finish();
}

std::string CdromDiskXml(const DriveInfo& drive, std::string_view source) {
  XmlWriter w;
  w.Start("disk").Attr("type", "file").Attr("device", "cdrom");
  w.Start("driver").Attr("name", "qemu").Attr("type", "raw").End();
  if (!source.empty()) w.Start("source").Attr("file", source).End();
  w.Start("target").Attr("dev", drive.target);
  if (!drive.bus.empty()) w.Attr("bus", drive.bus);
  w.End();
  w.Start("readonly").End();
  return w.Finish();
}

}  // namespace gitdisc
