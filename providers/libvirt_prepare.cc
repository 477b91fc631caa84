// `gitdisc vm prepare` on libvirt: the devices a VM lacks are added to its
// persistent definition with virDomainAttachDeviceFlags(AFFECT_CONFIG) —
// libvirt's own rules for a definition change (it validates the device and
// adds implicit controllers); the running instance is left alone.
#include "providers/domain_xml.h"
#include "providers/libvirt_connection.h"
#include "providers/libvirt_provider.h"
#include "providers/vm_preparation.h"

namespace gitdisc {

Result<PrepareVmResult> LibvirtProvider::PrepareVm(const std::string& key,
                                                   const PrepareVmOptions& options) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int persistent = virDomainIsPersistent(dom);
  int active = virDomainIsActive(dom);
  if (persistent < 0 || active < 0) return LibvirtError("virDomainIsPersistent", ref.name);
  if (!persistent) {
    return Status::Conflict("PrepareVm " + ref.name +
                            ": a transient domain has no persistent definition to change");
  }
  GITDISC_ASSIGN_OR_RETURN(std::string def_xml, GetXml(dom, VIR_DOMAIN_XML_INACTIVE, ref.name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain def, ParseDomainXml(def_xml));
  PrepareVmResult out;
  out.running = active > 0;
  GITDISC_ASSIGN_OR_RETURN(out.added, DevicesToAdd(def, options.cdrom_bus));
  if (out.running) {
    // The running instance lacks what the devices to add to IT would be.
    GITDISC_ASSIGN_OR_RETURN(std::string live_xml, GetXml(dom, 0, ref.name));
    GITDISC_ASSIGN_OR_RETURN(ParsedDomain live, ParseDomainXml(live_xml));
    GITDISC_ASSIGN_OR_RETURN(auto live_lacks, DevicesToAdd(live, options.cdrom_bus));
    out.restart_needed = !live_lacks.empty();
  }
  if (options.dry_run) return out;
  for (const std::string& device : out.added) {
    if (virDomainAttachDeviceFlags(dom, device.c_str(), VIR_DOMAIN_AFFECT_CONFIG) < 0) {
      return LibvirtError("virDomainAttachDeviceFlags(CONFIG)", ref.name);
    }
  }
  return out;
}

}  // namespace gitdisc
