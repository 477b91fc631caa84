// VsphereWatcher: the vSphere provider's event thread. It waits on a
// PropertyCollector of its own (WaitForUpdatesEx, `wait` at a time) over
// every VM of a folder and turns changes into Provider events: power state
// and VMs appearing or leaving → kLifecycle, a drive's media → kDiskChanged,
// gitdisc labels → kMetadata. extraConfig also carries the guestinfo mailbox,
// whose traffic is not an event: a label event needs the labels to differ
// from what the watcher saw last. When vCenter stops answering it reports
// kHostLost (key = the URI) once, backs off (1 s doubling to 30 s) and starts
// over with a fresh view of the inventory.
//
// Thread-safety: the callback runs on the watcher's thread, one at a time;
// SetCallback may be called from any thread. The destructor cancels the wait
// in flight and joins (within about a second).
#ifndef GITDISC_PROVIDERS_VSPHERE_WATCHER_H_
#define GITDISC_PROVIDERS_VSPHERE_WATCHER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "providers/provider.h"
#include "providers/vsphere_types.h"

namespace gitdisc::vsphere {

class VimClient;

class VsphereWatcher {
 public:
  VsphereWatcher(std::shared_ptr<VimClient> vim, MoRef folder, std::string uri,
                 std::chrono::seconds wait, Provider::EventCallback callback);
  ~VsphereWatcher();
  VsphereWatcher(const VsphereWatcher&) = delete;
  VsphereWatcher& operator=(const VsphereWatcher&) = delete;

  void SetCallback(Provider::EventCallback callback);

 private:
  void Run();
  void Dispatch(const std::string& key, EventKind kind);

  std::shared_ptr<VimClient> vim_;
  const MoRef folder_;
  const std::string uri_;
  const std::chrono::seconds wait_;
  std::mutex mu_;  // guards callback_
  Provider::EventCallback callback_;
  std::atomic<bool> stop_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
  std::thread thread_;
};

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_WATCHER_H_
