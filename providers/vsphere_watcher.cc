#include "providers/vsphere_watcher.h"

#include <algorithm>
#include <map>
#include <vector>

#include "providers/vsphere_vim.h"

namespace gitdisc::vsphere {
namespace {

// What the watcher remembers of a VM, to tell real changes from noise.
struct Seen {
  std::string uuid;
  std::string power;
  std::map<std::string, std::string> labels;
  std::vector<std::string> drives;
};

std::vector<std::string> Sources(const std::vector<VimCdrom>& cdroms) {
  std::vector<std::string> out;
  for (const VimCdrom& c : cdroms) out.push_back(c.label + "=" + CdromSource(c));
  return out;
}

bool Has(const std::vector<std::string>& names, const char* name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

VsphereWatcher::VsphereWatcher(std::shared_ptr<VimClient> vim, MoRef folder, std::string uri,
                               std::chrono::seconds wait, Provider::EventCallback callback)
    : vim_(std::move(vim)),
      folder_(std::move(folder)),
      uri_(std::move(uri)),
      wait_(wait),
      callback_(std::move(callback)) {
  thread_ = std::thread([this] { Run(); });
}

VsphereWatcher::~VsphereWatcher() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> l(sleep_mu_);
    sleep_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void VsphereWatcher::SetCallback(Provider::EventCallback callback) {
  std::lock_guard<std::mutex> l(mu_);
  callback_ = std::move(callback);
}

void VsphereWatcher::Dispatch(const std::string& key, EventKind kind) {
  std::lock_guard<std::mutex> l(mu_);
  if (callback_) callback_(key, kind);
}

void VsphereWatcher::Run() {
  std::map<std::string, Seen> seen;  // by VM moref value
  std::string version;
  bool lost = false;
  std::chrono::seconds backoff(1);
  while (!stop_.load()) {
    auto r = vim_->WaitForVmUpdates(folder_, version, wait_, &stop_);
    if (stop_.load()) return;
    if (!r.ok()) {
      if (!lost) Dispatch(uri_, EventKind::kHostLost);
      lost = true;
      version.clear();
      std::unique_lock<std::mutex> l(sleep_mu_);
      sleep_cv_.wait_for(l, backoff, [this] { return stop_.load(); });
      backoff = std::min(backoff * 2, std::chrono::seconds(30));
      continue;
    }
    const bool baseline = version.empty();
    lost = false;
    backoff = std::chrono::seconds(1);
    for (const VimClient::VmChange& c : r->changes) {
      Seen& s = seen[c.vm.value];
      if (!c.props.instance_uuid.empty()) s.uuid = c.props.instance_uuid;
      if (s.uuid.empty()) continue;  // not a VM we can name (yet)
      const std::string key = MakeVmKey(uri_, s.uuid);
      if (c.kind == "leave") {
        seen.erase(c.vm.value);
        Dispatch(key, EventKind::kLifecycle);
        continue;
      }
      bool power = false, disk = false, meta = false;
      if (Has(c.changed, "runtime.powerState") && c.props.power_state != s.power) {
        power = !s.power.empty();
        s.power = c.props.power_state;
      }
      if (Has(c.changed, "config.hardware.device")) {
        auto drives = Sources(c.props.cdroms);
        disk = drives != s.drives;
        s.drives = std::move(drives);
      }
      if (Has(c.changed, "config.extraConfig")) {
        auto labels = LabelsOf(c.props);
        meta = labels != s.labels;
        s.labels = std::move(labels);
      }
      if (baseline) continue;  // the first answer is the inventory as it stands
      if (c.kind == "enter" || power) Dispatch(key, EventKind::kLifecycle);
      if (c.kind != "enter" && disk) Dispatch(key, EventKind::kDiskChanged);
      if (c.kind != "enter" && meta) Dispatch(key, EventKind::kMetadata);
    }
    version = r->version;
  }
}

}  // namespace gitdisc::vsphere
