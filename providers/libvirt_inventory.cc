// Inventory and labels: VMs as libvirt describes them (state, domain XML),
// and the gitdisc labels in their <metadata> (DESIGN.md §3).
#include <stdlib.h>

#include <algorithm>

#include "providers/domain_xml.h"
#include "providers/libvirt_connection.h"
#include "providers/libvirt_provider.h"

namespace gitdisc {
namespace {

VmInfo::PowerState StateOf(int state) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
      return VmInfo::kRunning;
    case VIR_DOMAIN_PAUSED:
      return VmInfo::kPaused;
    case VIR_DOMAIN_SHUTOFF:
      return VmInfo::kShutoff;
    default:
      return VmInfo::kOther;
  }
}

Result<VmInfo> ReadVm(virDomainPtr dom, const std::string& host) {
  std::string name = DomainName(dom);
  int state = 0, reason = 0;
  if (virDomainGetState(dom, &state, &reason, 0) < 0) {
    return LibvirtError("virDomainGetState", name);
  }
  GITDISC_ASSIGN_OR_RETURN(std::string xml, GetXml(dom, 0, name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  VmInfo vm;
  vm.name = parsed.name.empty() ? name : parsed.name;
  vm.uuid = parsed.uuid;
  vm.host = host;
  vm.key = MakeVmKey(host, parsed.uuid);
  vm.state = StateOf(state);
  vm.labels = std::move(parsed.labels);
  vm.cdroms = std::move(parsed.cdroms);
  vm.has_agent_channel = parsed.has_agent_channel;
  vm.hot_add_buses = std::move(parsed.hot_add_buses);
  return vm;
}

// The labels of one scope (live or persistent) as they are now; none when
// the domain has no labels element there.
Result<std::map<std::string, std::string>> ReadLabels(virDomainPtr dom, unsigned scope,
                                                      const std::string& name) {
  CString current(virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, kLabelsNamespace, scope));
  if (current) return ParseLabelsXml(current.get());
  Status s = LibvirtError("virDomainGetMetadata", name);
  virErrorPtr e = virGetLastError();
  if (!(e && e->code == VIR_ERR_NO_DOMAIN_METADATA)) return s;
  return std::map<std::string, std::string>{};
}

Status WriteLabels(virDomainPtr dom, unsigned scope,
                   const std::map<std::string, std::string>& labels, const std::string& name) {
  int rc;
  if (labels.empty()) {
    rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, nullptr, nullptr, kLabelsNamespace,
                              scope);
  } else {
    std::string body = LabelsMetadataBody(labels);
    rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, body.c_str(), "g", kLabelsNamespace,
                              scope);
  }
  if (rc < 0) return LibvirtError("virDomainSetMetadata", name);
  return Status::Ok();
}

}  // namespace

Result<std::vector<VmInfo>> LibvirtProvider::ListVms() {
  std::vector<VmInfo> out;
  for (const auto& h : hosts_) {
    GITDISC_ASSIGN_OR_RETURN(ConnPtr conn, AcquireConn(*h, sink_, reconnects_));
    virDomainPtr* doms = nullptr;
    int n = virConnectListAllDomains(conn.get(), &doms, 0);
    if (n < 0) {
      Status s = LibvirtError("virConnectListAllDomains", h->uri);
      return s.code() == Status::Code::kInternal ? Status::Unavailable(s.message()) : s;
    }
    std::vector<DomainPtr> owned;
    for (int i = 0; i < n; ++i) owned.emplace_back(doms[i]);
    ::free(doms);
    for (const DomainPtr& d : owned) {
      auto vm = ReadVm(d.get(), h->uri);
      if (vm.status().IsNotFound()) continue;  // vanished between list and read
      if (!vm.ok()) return vm.status();
      out.push_back(std::move(vm).value());
    }
  }
  std::sort(out.begin(), out.end(), [](const VmInfo& a, const VmInfo& b) { return a.key < b.key; });
  return out;
}

Result<VmInfo> LibvirtProvider::GetVm(const std::string& key) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  return ReadVm(ref.dom.get(), key.substr(0, key.rfind('/')));
}

Status LibvirtProvider::SetLabels(const std::string& key,
                                  const std::map<std::string, std::string>& set,
                                  const std::vector<std::string>& remove) {
  for (const auto& [k, v] : set) GITDISC_RETURN_IF_ERROR(ValidateLabel(k, v));
  for (const auto& k : remove) {
    if (k.empty()) return Status::Invalid("label key to remove is empty");
  }
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int active = virDomainIsActive(dom);
  int persistent = virDomainIsPersistent(dom);
  if (active < 0 || persistent < 0) return LibvirtError("virDomainIsActive", ref.name);
  // Live and persistent metadata are separate copies; edit each that exists,
  // each from its own current value.
  std::vector<unsigned> scopes;
  if (active) scopes.push_back(VIR_DOMAIN_AFFECT_LIVE);
  if (persistent) scopes.push_back(VIR_DOMAIN_AFFECT_CONFIG);
  for (unsigned scope : scopes) {
    GITDISC_ASSIGN_OR_RETURN(auto labels, ReadLabels(dom, scope, ref.name));
    for (const auto& k : remove) labels.erase(k);
    for (const auto& [k, v] : set) labels[k] = v;
    GITDISC_RETURN_IF_ERROR(WriteLabels(dom, scope, labels, ref.name));
  }
  return Status::Ok();
}

}  // namespace gitdisc
