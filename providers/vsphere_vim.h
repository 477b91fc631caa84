// VimClient: the handful of vim25 calls the vSphere provider makes, typed —
// RetrieveServiceContent, Login/Logout, SearchIndex lookups, PropertyCollector
// RetrievePropertiesEx (paged) and WaitForUpdatesEx, ReconfigVM_Task,
// FileManager moves/deletes, task state polling with deadlines, and the
// datastore HTTP interface (/folder/PATH?dcPath=&dsName=). SOAP envelopes
// stay in the .cc files (vsphere_soap.h, vsphere_vim_xml.h).
//
// One VimClient is one login session. A call that finds the session gone
// (NotAuthenticated: vCenter restarted or expired it) logs in again and is
// retried once. The password is kept only for that and never appears in a
// message.
//
// Thread-safe: calls may come from several threads at once.
#ifndef GITDISC_PROVIDERS_VSPHERE_VIM_H_
#define GITDISC_PROVIDERS_VSPHERE_VIM_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "providers/vsphere_types.h"

namespace gitdisc::vsphere {

class SoapClient;
class XmlWriter;
struct SoapResponse;

class VimClient {
 public:
  // Connects and logs in. kPermission for a wrong user or password.
  static Result<std::unique_ptr<VimClient>> Connect(const SoapOptions& options,
                                                    const std::string& user,
                                                    const std::string& password);
  ~VimClient();  // logs out (best effort, short deadline)
  VimClient(const VimClient&) = delete;
  VimClient& operator=(const VimClient&) = delete;

  // The datacenter at an inventory path ("DC0", "folder/DC0"); kNotFound.
  Result<MoRef> FindDatacenter(const std::string& path);
  // Datacenter.vmFolder.
  Result<MoRef> VmFolder(const MoRef& datacenter);

  // Every VirtualMachine below `folder` (recursively), with VmPropertyPaths().
  Result<std::vector<VimVm>> ListVms(const MoRef& folder);
  // One VM's properties; kNotFound when it is gone.
  Result<VimVm> GetVm(const MoRef& vm);
  // Only the given properties of one VM (e.g. config.extraConfig for the mailbox).
  Result<VimVm> GetVmProperties(const MoRef& vm, const std::vector<std::string>& paths);
  // The VM with this instance UUID in the datacenter; kNotFound.
  Result<MoRef> FindVmByInstanceUuid(const MoRef& datacenter, const std::string& uuid);

  // Starts ReconfigVM_Task and waits for it until `deadline`.
  Status Reconfigure(const MoRef& vm, const VmEdit& edit, const std::string& what,
                     std::chrono::steady_clock::time_point deadline);
  // Polls a task's info.state until success (Ok), error (the fault as a
  // Status) or the deadline (kTimeout, naming the task).
  Status WaitForTask(const MoRef& task, const std::string& what,
                     std::chrono::steady_clock::time_point deadline);

  // FileManager, "[ds] path" names; tasks awaited until `deadline`.
  Status MoveDatastoreFile(const MoRef& datacenter, const std::string& from, const std::string& to,
                           std::chrono::steady_clock::time_point deadline);
  // Creates "[ds] dir" with its parents; an existing one is fine.
  Status MakeDirectory(const MoRef& datacenter, const std::string& path);
  Status DeleteDatastoreFile(const MoRef& datacenter, const std::string& path,
                             std::chrono::steady_clock::time_point deadline);

  // The datastore HTTP interface. `relative` is the path inside the datastore.
  Status Upload(const std::string& dc_path, const std::string& datastore,
                const std::string& relative, const std::string& local_path);
  Status UploadData(const std::string& dc_path, const std::string& datastore,
                    const std::string& relative, const std::string& data);
  // The size of a datastore file, or -1 when it does not exist.
  Result<int64_t> FileSize(const std::string& dc_path, const std::string& datastore,
                           const std::string& relative);
  Status Download(const std::string& dc_path, const std::string& datastore,
                  const std::string& relative, const std::string& local_path);

  // PropertyCollector updates over every VM below `folder`: a collector of
  // its own (so waiting blocks no other call), created once.
  struct VmChange {
    MoRef vm;
    std::string kind;  // "enter", "modify", "leave"
    VimVm props;       // the changed properties only (others empty)
    std::vector<std::string> changed;  // property names
  };
  struct Updates {
    std::string version;
    std::vector<VmChange> changes;
  };
  // Waits up to max_wait for changes after `version` ("" = the current state
  // as "enter" changes). An empty `changes` with the same version: nothing
  // happened in time.
  // `cancel` ends the wait early (kUnavailable).
  Result<Updates> WaitForVmUpdates(const MoRef& folder, const std::string& version,
                                   std::chrono::seconds max_wait,
                                   const std::atomic<bool>* cancel = nullptr);

  // "https://HOST:PORT".
  std::string endpoint() const;

 private:
  VimClient(std::unique_ptr<SoapClient> soap, std::string user, std::string password);
  Status Login();
  // Calls, logging in again once when the session is gone. `build` writes the
  // method's arguments after _this.
  Result<SoapResponse> Invoke(const char* method, const MoRef& self, const std::string& what,
                              const std::function<void(XmlWriter&)>& build,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                              const std::atomic<bool>* cancel = nullptr);
  Result<std::vector<VimVm>> RetrieveVms(const std::function<void(XmlWriter&)>& object_set,
                                         const std::vector<std::string>& paths,
                                         const std::string& what);
  Result<MoRef> ContainerView(const MoRef& folder);
  std::string FolderPath(const std::string& dc_path, const std::string& datastore,
                         const std::string& relative) const;

  std::unique_ptr<SoapClient> soap_;
  const std::string user_;
  const std::string password_;
  MoRef property_collector_, search_index_, session_manager_, view_manager_, file_manager_;
  std::mutex mu_;  // guards views_ and the update collector
  std::vector<std::pair<MoRef, MoRef>> views_;  // folder → container view
  MoRef update_collector_;
};

}  // namespace gitdisc::vsphere

#endif  // GITDISC_PROVIDERS_VSPHERE_VIM_H_
