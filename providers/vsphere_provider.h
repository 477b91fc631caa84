// VsphereProvider: the Provider over one vCenter (or ESXi) datacenter, spoken
// to in vim25 SOAP (providers/vsphere_vim.h). Opened from a vsphere:// URI
// (providers/vsphere_uri.h); VM keys are "<uri>/<config.instanceUuid>".
//
// Inventory: every VM below the datacenter's vmFolder except templates;
// names are VM names. Labels: extraConfig `gitdisc.label.<key>` = value
// (an empty value cannot be stored: vSphere removes a key set to "").
// Drives: the VM's CD-ROMs, targets named like the .vmx does ("ide0:0",
// "sata0:1"); a drive is empty unless it has an ISO backing or a connected
// host device (foreign media: never touched, DriveBusy).
//
// Delivery: PrepareImage checks and registers the local image and returns
// "gitdisc/<digest>.iso"; the datastore is known only per VM, so InsertMedia
// uploads the image once per datastore, at its first insert there, over the
// datastore HTTP interface: into a temporary name, moved (FileManager) to
// `[DS] gitdisc/<digest>.iso`, then the marker `gitdisc/<digest>.iso.ok`. An
// image with its marker and the right size is reused; one without (a half
// upload) is uploaded again. Insert = ReconfigVM_Task putting the first
// empty drive on VirtualCdromIsoBackingInfo, connected; eject = a client
// device backing, disconnected. Tasks are awaited until task_timeout.
//
// Channel: the guestinfo mailbox (guest/mailbox_stream.h): requests written to
// extraConfig `guestinfo.gitdisc.request` with ReconfigVM_Task, replies read
// from `guestinfo.gitdisc.reply` in config.extraConfig. The stream holds the
// session and may outlive the provider.
//
// Events: Watch runs one thread on PropertyCollector WaitForUpdatesEx over
// every VM (power state, devices, extraConfig), reporting kLifecycle,
// kDiskChanged, kMetadata (labels only, not mailbox traffic) and kHostLost
// when vCenter stops answering.
//
// Thread-safety: every method may be called from several threads.
#ifndef GITDISC_PROVIDERS_VSPHERE_PROVIDER_H_
#define GITDISC_PROVIDERS_VSPHERE_PROVIDER_H_

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "providers/provider.h"
#include "providers/vsphere_uri.h"

namespace gitdisc {

namespace vsphere {
class VimClient;
struct MoRef;
struct VimVm;
}  // namespace vsphere

class VsphereProvider final : public Provider {
 public:
  struct Options {
    std::chrono::seconds task_timeout{120};
    std::chrono::milliseconds call_timeout{60'000};
    std::chrono::milliseconds connect_timeout{10'000};
    // Mailbox polling of the reply value.
    std::chrono::milliseconds mailbox_min_poll{20};
    std::chrono::milliseconds mailbox_max_poll{250};
    std::chrono::seconds watch_wait{5};  // one WaitForUpdatesEx
  };
  struct Stats {
    int uploads = 0;         // images uploaded to a datastore
    int reused_images = 0;   // inserts that found the image on the datastore
    int reconfigures = 0;    // ReconfigVM_Task calls for labels and media
  };

  // Reads the password file, logs in and finds the datacenter. kPermission
  // for a wrong password, kUnavailable when vCenter cannot be reached,
  // kNotFound for an unknown datacenter, kInvalid for a bad URI.
  static Result<std::unique_ptr<VsphereProvider>> Open(const std::string& uri, Options options);
  static Result<std::unique_ptr<VsphereProvider>> Open(const std::string& uri) {
    return Open(uri, Options());
  }
  ~VsphereProvider() override;
  VsphereProvider(const VsphereProvider&) = delete;
  VsphereProvider& operator=(const VsphereProvider&) = delete;

  std::vector<std::string> Hosts() const override;
  Result<std::vector<VmInfo>> ListVms() override;
  Result<VmInfo> GetVm(const std::string& key) override;
  Status SetLabels(const std::string& key, const std::map<std::string, std::string>& set,
                   const std::vector<std::string>& remove) override;
  Result<std::string> PrepareImage(const std::string& host, const std::string& local_iso_path,
                                   const std::string& digest) override;
  Status InsertMedia(const std::string& key, const std::string& drive_target,
                     const std::string& host_path) override;
  Status EjectMedia(const std::string& key, const std::string& drive_target,
                    const std::string& expected_source, bool force) override;
  Result<std::unique_ptr<ByteStream>> OpenAgentChannel(const std::string& key) override;
  Status Watch(EventCallback callback) override;

  Stats stats() const;

  struct State;  // defined in the .cc

 private:
  explicit VsphereProvider(std::unique_ptr<State> state);
  Result<vsphere::VimVm> ReadVm(const std::string& key, vsphere::MoRef* ref);
  Status EnsureImage(const std::string& datastore, const std::string& digest);
  std::unique_ptr<State> s_;
};

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_VSPHERE_PROVIDER_H_
