#include "providers/vsphere_types.h"

namespace gitdisc::vsphere {

std::optional<std::string> VimVm::Extra(const std::string& key) const {
  for (auto it = extra_config.rbegin(); it != extra_config.rend(); ++it) {
    if (it->first != key) continue;
    if (it->second.empty()) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

std::map<std::string, std::string> LabelsOf(const VimVm& vm) {
  std::map<std::string, std::string> out;
  const std::string prefix = kLabelKeyPrefix;
  for (const auto& [key, value] : vm.extra_config) {
    if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) continue;
    std::string label = key.substr(prefix.size());
    if (value.empty()) {
      out.erase(label);  // later entries win; "" unsets
    } else {
      out[label] = value;
    }
  }
  return out;
}

std::string CdromSource(const VimCdrom& c) {
  if (c.backing_type == "VirtualCdromIsoBackingInfo") return c.file_name;
  if (!c.connected || c.backing_type.find("Remote") != std::string::npos) return "";
  // A host's drive is a device path ("/vmfs/devices/cdrom/mpx…", "/dev/cdrom");
  // govmomi's placeholder backing ("cdrom-<controller>-<unit>") is no device.
  if (c.device_name.empty() || c.device_name[0] != '/') return "";
  return "host-device:" + c.device_name;
}

std::string DatastoreOfPath(const std::string& path) {
  if (path.empty() || path[0] != '[') return "";
  size_t close = path.find(']');
  if (close == std::string::npos) return "";
  return path.substr(1, close - 1);
}

std::string RelativeOfPath(const std::string& path) {
  if (path.empty() || path[0] != '[') return path;
  size_t close = path.find(']');
  if (close == std::string::npos) return path;
  size_t start = close + 1;
  while (start < path.size() && path[start] == ' ') ++start;
  return path.substr(start);
}

}  // namespace gitdisc::vsphere
