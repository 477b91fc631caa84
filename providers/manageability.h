// Manageability: what a VM's devices let gitdisc do with it, and what it
// lacks (`gitdisc vm check`, DESIGN.md §5 delivery methods, §6 channel).
//
// A VM is manageable when it defines the agent channel org.gitdisc.agent.0
// and at least one delivery method that gitdisc delivers with reaches it:
//   cdrom    hot insert into a free CD-ROM drive on a bus with a tray (IDE,
//            SATA, SCSI; a virtio CD-ROM has no ejectable media). Free: empty,
//            or holding a gitdisc image (<sha256>.iso).
//   disk     hot add: a read-only disk attached live, on a virtio-scsi
//            controller or a PCI slot that takes hot-plugged virtio-blk.
//   channel  backdoor: the bundle streamed through the agent channel.
// Labels are not required (a `names:` selector reaches a VM without any),
// so their absence is a note, not a lack.
//
// Pure functions of VmInfo; thread-safe.
#ifndef GITDISC_PROVIDERS_MANAGEABILITY_H_
#define GITDISC_PROVIDERS_MANAGEABILITY_H_

#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.h"

namespace gitdisc {

enum class Delivery { kCdrom, kDisk, kChannel };
// "cdrom", "disk", "channel".
const char* DeliveryName(Delivery d);

// The delivery methods gitdisc delivers with. Hot insert is what this
// version does; hot add and backdoor are switched on where gitdisc
// implements them.
struct DeliveryOptions {
  bool cdrom = true;
  bool disk = false;
  bool channel = false;
  bool Enabled(Delivery d) const;
};

// Whether a CD-ROM on `bus` has a tray: "ide", "sata", "scsi", or "" (a bus
// the XML did not name; libvirt always names it).
bool IsEjectableBus(std::string_view bus);

struct Manageability {
  bool channel = false;                // org.gitdisc.agent.0 is defined
  std::vector<std::string> ejectable;  // CD-ROM targets on a bus with a tray
  std::vector<std::string> free;       // of those, the free ones
  std::vector<Delivery> supported;     // by the VM's devices
  std::vector<Delivery> usable;        // supported and delivered with
  std::vector<std::string> lacking;    // what keeps it from being managed
  std::vector<std::string> notes;      // worth knowing, not blocking
  bool manageable() const { return lacking.empty(); }
};

Manageability AssessVm(const VmInfo& vm, const DeliveryOptions& delivery = {});

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_MANAGEABILITY_H_
