// Plain values of the vSphere API (vim25) that the vSphere provider uses:
// managed object references, the parts of a VirtualMachine it reads, and the
// edits it makes with ReconfigVM_Task. No XML here: providers/vsphere_vim_xml.h
// translates these to and from SOAP. Values; thread-compatible.
#ifndef GITDISC_PROVIDERS_VSPHERE_TYPES_H_
#define GITDISC_PROVIDERS_VSPHERE_TYPES_H_

#include <chrono>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

namespace gitdisc::vsphere {

// How to reach one vCenter/ESXi endpoint (providers/vsphere_soap.h).
struct SoapOptions {
  std::string host;  // name or address (IPv6 without brackets)
  int port = 443;
  bool insecure = false;
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds call_timeout{60'000};
  // A transfer that moves nothing for this long fails (uploads have no total limit).
  std::chrono::milliseconds stall_timeout{30'000};
};

// A managed object reference: type "VirtualMachine", value "vm-42".
struct MoRef {
  std::string type;
  std::string value;
  bool empty() const { return value.empty(); }
  bool operator==(const MoRef&) const = default;
  bool operator<(const MoRef& o) const {
    return std::tie(type, value) < std::tie(o.type, o.value);
  }
};

// One VirtualCdrom device of a VM's config.hardware.device.
struct VimCdrom {
  int key = 0;              // device key, stable for the VM's life
  int controller_key = 0;
  int unit_number = -1;
  std::string label;        // our name for it: "ide0:0", "sata0:1" (controller + unit)
  std::string device_label;  // deviceInfo.label, "CD/DVD drive 1"
  std::string backing_type; // xsi:type of the backing, e.g. VirtualCdromIsoBackingInfo
  std::string file_name;    // ISO backing: "[datastore1] dir/x.iso"; "" otherwise
  std::string device_name;  // other backings: the host device or passthrough name
  bool connected = false;
  bool start_connected = false;
  bool allow_guest_control = true;
};

// The properties of a VirtualMachine the provider reads.
struct VimVm {
  MoRef ref;
  std::string name;
  std::string instance_uuid;  // config.instanceUuid: the VM's key
  std::string power_state;    // runtime.powerState: poweredOn, poweredOff, suspended
  std::string vmx_path;       // config.files.vmPathName: "[datastore1] web-1/web-1.vmx"
  bool is_template = false;
  // config.extraConfig in order; a key may repeat (the simulator appends), so
  // the last occurrence is the value, and an empty value means unset (vSphere
  // removes a key set to "").
  std::vector<std::pair<std::string, std::string>> extra_config;
  std::vector<VimCdrom> cdroms;

  // The effective value of an extraConfig key, or nullopt.
  std::optional<std::string> Extra(const std::string& key) const;
};

// The prefix of gitdisc's label keys in extraConfig.
inline constexpr char kLabelKeyPrefix[] = "gitdisc.label.";

// The VM's labels: extraConfig gitdisc.label.<key> (effective values only).
std::map<std::string, std::string> LabelsOf(const VimVm& vm);

// What a drive holds, as DriveInfo::source: the ISO path of an ISO backing;
// "host-device:PATH" for a connected host device (foreign media); "" for an
// empty drive (disconnected, a client device, or a device backing that names
// no device path, like the "cdrom-<controller>-<unit>" placeholder govmomi
// and the simulator give new drives).
std::string CdromSource(const VimCdrom& c);

// The datastore of a datastore path: "datastore1" of "[datastore1] a/b.iso";
// "" when the path has no [name] prefix.
std::string DatastoreOfPath(const std::string& path);
// "a/b.iso" of "[datastore1] a/b.iso".
std::string RelativeOfPath(const std::string& path);

// What one ReconfigVM_Task changes.
struct VmEdit {
  // extraConfig keys to set (value "" removes the key on vSphere).
  std::vector<std::pair<std::string, std::string>> extra_config;
  // A CD-ROM to re-back: an ISO file (connected), or empty (disconnected).
  struct Cdrom {
    VimCdrom device;    // the current device (key, controller, unit, label)
    std::string iso;    // "[ds] path.iso", or "" for an empty drive
  };
  std::optional<Cdrom> cdrom;
};

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_TYPES_H_
