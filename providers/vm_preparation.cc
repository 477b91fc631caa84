#include "providers/vm_preparation.h"

#include <algorithm>

#include "providers/manageability.h"

namespace gitdisc {
namespace {

bool HasEmptyTrayDrive(const ParsedDomain& d) {
  return std::any_of(d.cdroms.begin(), d.cdroms.end(),
                     [](const DriveInfo& c) { return IsEjectableBus(c.bus) && c.source.empty(); });
}

}  // namespace

std::string DefaultCdromBus(const ParsedDomain& definition) {
  for (const DriveInfo& c : definition.cdroms) {
    if (!c.bus.empty() && IsEjectableBus(c.bus)) return c.bus;
  }
  return definition.machine.find("q35") != std::string::npos ? "sata" : "ide";
}

std::string FreeDiskTarget(std::string_view bus, const std::vector<std::string>& used) {
  const std::string prefix = bus == "ide" ? "hd" : "sd";
  const char last = bus == "ide" ? 'd' : 'z';
  for (char c = 'a'; c <= last; ++c) {
    std::string name = prefix + c;
    if (std::find(used.begin(), used.end(), name) == used.end()) return name;
  }
  return "";
}

Result<std::vector<std::string>> DevicesToAdd(const ParsedDomain& definition,
                                              std::string_view cdrom_bus) {
  std::string bus = cdrom_bus.empty() ? DefaultCdromBus(definition) : std::string(cdrom_bus);
  if (bus != "sata" && bus != "ide" && bus != "scsi") {
    return Status::Invalid("CD-ROM bus '" + bus + "': want sata, ide or scsi");
  }
  std::vector<std::string> out;
  if (!definition.has_agent_channel) out.push_back(AgentChannelXml());
  if (!HasEmptyTrayDrive(definition)) {
    std::string target = FreeDiskTarget(bus, definition.disk_targets);
    if (target.empty()) {
      return Status::Conflict("no free " + bus + " disk name in " + definition.name +
                              " (try another --cdrom-bus)");
    }
    out.push_back(CdromDiskXml(DriveInfo{target, bus, "", false}, ""));
  }
  return out;
}

}  // namespace gitdisc
