#include "providers/manageability.h"

#include <algorithm>

namespace gitdisc {
namespace {

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Empty, or one of gitdisc's images (<digest>.iso in the cache or a pool).
bool IsFree(const DriveInfo& d) {
  if (d.source.empty()) return true;
  std::string_view base = d.source;
  base.remove_prefix(std::min(base.size(), base.rfind('/') + 1));
  return base.size() == 68 && base.substr(64) == ".iso" && IsHex64(base.substr(0, 64));
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The sentence for a VM no enabled delivery method reaches.
std::string NoDelivery(const VmInfo& vm, const Manageability& m, const DeliveryOptions& d) {
  std::vector<std::string> wanted;
  if (d.cdrom) {
    if (m.ejectable.empty()) {
      wanted.push_back("a CD-ROM drive on a bus with a tray (IDE, SATA or SCSI)");
    } else {
      std::string busy;
      for (const DriveInfo& drive : vm.cdroms) {
        if (IsEjectableBus(drive.bus))
          busy += (busy.empty() ? "" : ", ") + drive.target + " holds " + drive.source;
      }
      wanted.push_back("a free CD-ROM drive (" + busy +
                       "; gitdisc never ejects media it did not insert)");
    }
  }
  if (d.disk)
    wanted.push_back("a bus for hot add (a virtio-scsi controller or a hot-pluggable PCI slot)");
  if (d.channel) wanted.push_back("the agent channel for delivery");
  std::string s = "a delivery method: ";
  for (size_t i = 0; i < wanted.size(); ++i) s += (i ? " or " : "") + wanted[i];
  return s;
}

}  // namespace

const char* DeliveryName(Delivery d) {
  switch (d) {
    case Delivery::kCdrom:
      return "cdrom";
    case Delivery::kDisk:
      return "disk";
    case Delivery::kChannel:
      return "channel";
  }
  return "?";
}

bool DeliveryOptions::Enabled(Delivery d) const {
  switch (d) {
    case Delivery::kCdrom:
      return cdrom;
    case Delivery::kDisk:
      return disk;
    case Delivery::kChannel:
      return channel;
  }
  return false;
}

bool IsEjectableBus(std::string_view bus) {
  return bus.empty() || bus == "ide" || bus == "sata" || bus == "scsi";
}

Manageability AssessVm(const VmInfo& vm, const DeliveryOptions& delivery) {
  Manageability m;
  m.channel = vm.has_agent_channel;
  std::vector<std::string> trayless;
  for (const DriveInfo& d : vm.cdroms) {
    if (!IsEjectableBus(d.bus)) {
      trayless.push_back(d.target + " (" + d.bus + ")");
      continue;
    }
    m.ejectable.push_back(d.target);
    if (IsFree(d)) m.free.push_back(d.target);
  }
  if (!m.free.empty()) m.supported.push_back(Delivery::kCdrom);
  if (!vm.hot_add_buses.empty()) m.supported.push_back(Delivery::kDisk);
  if (m.channel) m.supported.push_back(Delivery::kChannel);
  for (Delivery d : m.supported) {
    if (delivery.Enabled(d)) m.usable.push_back(d);
  }
  if (!m.channel)
    m.lacking.push_back(std::string("the virtio-serial channel ") + kAgentChannelName);
  if (m.usable.empty()) m.lacking.push_back(NoDelivery(vm, m, delivery));
  if (!trayless.empty()) {
    m.notes.push_back("CD-ROM drives without a tray cannot take a disc: " + Join(trayless));
  }
  if (vm.labels.empty()) {
    m.notes.push_back("no labels: only a names: selector reaches it (gitdisc label " + vm.name +
                      " key=value)");
  }
  return m;
}

}  // namespace gitdisc
