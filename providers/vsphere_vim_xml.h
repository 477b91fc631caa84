// vim25 data objects ↔ XML for the calls the vSphere provider makes: reading
// a VirtualMachine's properties out of a RetrievePropertiesEx/WaitForUpdatesEx
// answer, and writing the VirtualMachineConfigSpec of a ReconfigVM_Task
// (CD-ROM backing edit, extraConfig), the datacenter's datastores, and the
// search spec and results of HostDatastoreBrowser.SearchDatastore_Task. Pure functions over libxml2 nodes,
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

// The Datastore properties ListDatastores asks for.
const std::vector<std::string>& DatastorePropertyPaths();

// One <objects> of a Datastore → VimDatastore.
VimDatastore ParseDatastoreObject(const xmlNode* object_content);

// An ArrayOfManagedObjectReference <val> (Datacenter.datastore) → its refs.
std::vector<MoRef> ParseRefArray(const xmlNode* val);

// Writes <searchSpec> for SearchDatastore_Task: every file type (no query,
// as `govc datastore.ls` does), sizes asked for, names matching any of
// `patterns` (globs such as "*.iso").
void WriteSearchSpec(XmlWriter& w, const std::vector<std::string>& patterns);

// A HostDatastoreBrowserSearchResults (the task's info.result) → its files,
// in the server's order.
std::vector<DatastoreFile> ParseSearchResults(const xmlNode* results);

// A LocalizedMethodFault (task info.error) → its fault type and message.
void ParseLocalizedFault(const xmlNode* fault, std::string* type, std::string* message);

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_VIM_XML_H_
