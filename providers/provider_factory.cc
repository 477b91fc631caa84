#include "providers/provider_factory.h"

#include <algorithm>
#include <set>

#include "providers/libvirt_provider.h"
#include "providers/vsphere_provider.h"
#include "providers/vsphere_uri.h"

namespace gitdisc {
namespace {

class MultiProvider final : public Provider {
 public:
  explicit MultiProvider(std::vector<std::unique_ptr<Provider>> providers)
      : providers_(std::move(providers)) {}

  std::vector<std::string> Hosts() const override {
    std::vector<std::string> out;
    for (const auto& p : providers_) {
      for (std::string& h : p->Hosts()) out.push_back(std::move(h));
    }
    return out;
  }

  Result<std::vector<VmInfo>> ListVms() override {
    std::vector<VmInfo> out;
    for (const auto& p : providers_) {
      GITDISC_ASSIGN_OR_RETURN(std::vector<VmInfo> vms, p->ListVms());
      for (VmInfo& v : vms) out.push_back(std::move(v));
    }
    std::sort(out.begin(), out.end(),
              [](const VmInfo& a, const VmInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<VmInfo> GetVm(const std::string& key) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForKey(key));
    return p->GetVm(key);
  }
  Status SetLabels(const std::string& key, const std::map<std::string, std::string>& set,
                   const std::vector<std::string>& remove) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForKey(key));
    return p->SetLabels(key, set, remove);
  }
  Result<std::string> PrepareImage(const std::string& host, const std::string& local_iso_path,
                                   const std::string& digest) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForHost(host));
    return p->PrepareImage(host, local_iso_path, digest);
  }
  Status InsertMedia(const std::string& key, const std::string& drive_target,
                     const std::string& host_path) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForKey(key));
    return p->InsertMedia(key, drive_target, host_path);
  }
  Status EjectMedia(const std::string& key, const std::string& drive_target,
                    const std::string& expected_source, bool force) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForKey(key));
    return p->EjectMedia(key, drive_target, expected_source, force);
  }
  Result<std::unique_ptr<ByteStream>> OpenAgentChannel(const std::string& key) override {
    GITDISC_ASSIGN_OR_RETURN(Provider * p, ForKey(key));
    return p->OpenAgentChannel(key);
  }
  Status Watch(EventCallback callback) override {
    for (const auto& p : providers_) GITDISC_RETURN_IF_ERROR(p->Watch(callback));
    return Status::Ok();
  }

 private:
  Result<Provider*> ForHost(const std::string& host) {
    for (const auto& p : providers_) {
      for (const std::string& h : p->Hosts()) {
        if (h == host) return p.get();
      }
    }
    return Status::NotFound("host " + RedactUri(host) + " is not connected");
  }
  Result<Provider*> ForKey(const std::string& key) {
    std::string host, uuid;
    GITDISC_RETURN_IF_ERROR(SplitVmKey(key, &host, &uuid));
    return ForHost(host);
  }

  std::vector<std::unique_ptr<Provider>> providers_;
};

}  // namespace

std::unique_ptr<Provider> MakeMultiProvider(std::vector<std::unique_ptr<Provider>> providers) {
  return std::make_unique<MultiProvider>(std::move(providers));
}

Result<std::unique_ptr<Provider>> OpenProvider(const std::vector<std::string>& uris) {
  if (uris.empty()) return Status::Invalid("no connection URI given");
  std::set<std::string> seen;
  std::vector<std::string> libvirt;
  std::vector<std::unique_ptr<Provider>> providers;
  for (const std::string& uri : uris) {
    if (!seen.insert(uri).second) {
      return Status::Invalid("connection URI given twice: " + RedactUri(uri));
    }
    if (!IsVsphereUri(uri)) {
      libvirt.push_back(uri);
      continue;
    }
    GITDISC_ASSIGN_OR_RETURN(auto p, VsphereProvider::Open(uri));
    providers.push_back(std::move(p));
  }
  if (!libvirt.empty()) {
    GITDISC_ASSIGN_OR_RETURN(auto p, LibvirtProvider::Open(libvirt));
    providers.insert(providers.begin(), std::move(p));
  }
  if (providers.size() == 1) return std::move(providers[0]);
  return MakeMultiProvider(std::move(providers));
}

}  // namespace gitdisc
