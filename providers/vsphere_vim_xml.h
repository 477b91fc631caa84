// vim25 data objects ↔ XML for the calls the vSphere provider makes: reading
// a VirtualMachine's properties out of a RetrievePropertiesEx/WaitForUpdatesEx
// answer, and writing the VirtualMachineConfigSpec of a ReconfigVM_Task
// (CD-ROM backing edit, extraConfig). Pure functions over libxml2 nodes,
// unit-tested with answers captured from govmomi's vCenter simulator.
//
// Internal to the vSphere provider (includes libxml2). Thread-compatible.
#ifndef GITDISC_PROVIDERS_VSPHERE_VIM_XML_H_
#define GITDISC_PROVIDERS_VSPHERE_VIM_XML_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "providers/vsphere_types.h"
#include "providers/vsphere_xml.h"

namespace gitdisc::vsphere {

// The VirtualMachine properties the provider asks for.
const std::vector<std::string>& VmPropertyPaths();

// One <objects> (ObjectContent) of a VirtualMachine → VimVm. Properties the
// server left out (an inaccessible VM has no config) stay empty.
VimVm ParseVmObject(const xmlNode* object_content);

// Applies one property (name + <val>) to vm; used for full reads and for
// WaitForUpdatesEx changes alike.
void ApplyVmProperty(VimVm& vm, const std::string& name, const xmlNode* val);

// config.hardware.device → the CD-ROMs, each named after its controller
// ("ide0:0", "sata0:1", "scsi0:3") in VimCdrom::label when the controller is known.
std::vector<VimCdrom> ParseCdroms(const xmlNode* device_array);

// Writes <spec>…</spec> of ReconfigVM_Task for the edit.
void WriteVmEdit(XmlWriter& w, const VmEdit& edit);

// A LocalizedMethodFault (task info.error) → its fault type and message.
void ParseLocalizedFault(const xmlNode* fault, std::string* type, std::string* message);

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_VIM_XML_H_
