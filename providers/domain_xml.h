// Pure translation between libvirt XML and gitdisc's view of a VM: parses a
// domain's XML (name, uuid, CD-ROM drives with media and tray, the agent
// channel, gitdisc labels in <metadata>), parses and writes the labels
// element (DESIGN.md §3), and writes the <disk> element for a media change.
//
// No libvirt calls: these functions take and return strings, so they are unit
// tested with XML captured from libvirt. Parsing uses libxml2 (no network, no
// entity expansion). All functions are thread-safe.
#ifndef GITDISC_PROVIDERS_DOMAIN_XML_H_
#define GITDISC_PROVIDERS_DOMAIN_XML_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "providers/provider.h"

namespace gitdisc {

struct ParsedDomain {
  std::string name;
  std::string uuid;
  std::string machine;  // <os><type machine=…>, e.g. "pc-i440fx-7.2", "pc-q35-7.2"
  std::map<std::string, std::string> labels;
  std::vector<DriveInfo> cdroms;  // in document order
  bool has_agent_channel = false;
  // Every <disk>'s target dev (disks and CD-ROMs), to pick a free name.
  std::vector<std::string> disk_targets;
  // What VmInfo::hot_add_buses says, judged from controllers and addresses:
  // "virtio-scsi" for a virtio-scsi controller; "virtio-blk" for a PCI bus
  // that takes a hot-plugged device — the root bus of an i440fx machine
  // ("pc", "pc-i440fx-*", ACPI hotplug), or a pcie-root-port that no device
  // sits behind (q35 and other PCIe machines: their root bus does not
  // hotplug).
  std::vector<std::string> hot_add_buses;
};

// Parses `<domain>…</domain>`. Labels are found by namespace URI (whatever
// prefix the document uses). kInvalid for XML that does not parse or is not a
// domain.
Result<ParsedDomain> ParseDomainXml(std::string_view xml);

// Parses the labels element, either as the domain XML holds it
// (`<g:labels xmlns:g="urn:gitdisc:labels:1"><g:label key=".." value=".."/>…`)
// or as virDomainGetMetadata returns it (the same without namespace).
// kInvalid when it is not that element or a label lacks its key.
Result<std::map<std::string, std::string>> ParseLabelsXml(std::string_view xml);

// The labels element, exactly as DESIGN.md §3 shows it, keys sorted, values
// escaped.
std::string LabelsXml(const std::map<std::string, std::string>& labels);

// The body to hand virDomainSetMetadata (with key "g" and uri
// kLabelsNamespace): the labels element WITHOUT prefixes — libvirt puts its
// own prefix on every node and refuses ("failed to create a new XML
// namespace") a body that already declares one. The stored result is exactly
// LabelsXml().
std::string LabelsMetadataBody(const std::map<std::string, std::string>& labels);

// Checks a label key/value pair for SetLabels: non-empty key ≤ 253 bytes,
// value ≤ 1024 bytes, neither with control characters. kInvalid otherwise.
Status ValidateLabel(std::string_view key, std::string_view value);

// The <disk> element for virDomainUpdateDeviceFlags: the CD-ROM `drive`
// (target and bus kept) holding `source` (a file path), or empty when
// `source` is "".
std::string CdromDiskXml(const DriveInfo& drive, std::string_view source);

// The <channel> that `vm prepare` adds: a unix-backed virtio-serial port
// named org.gitdisc.agent.0 (libvirt picks the socket path).
std::string AgentChannelXml();

// The device alias (QEMU's qdev id, e.g. "ide0-1-0") of the CD-ROM drive
// `target` in a live domain XML; "" when absent.
std::string FindDriveAlias(std::string_view xml, std::string_view target);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_DOMAIN_XML_H_
