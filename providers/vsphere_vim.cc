#include "providers/vsphere_vim.h"

#include <algorithm>
#include <thread>

#include "base/url_text.h"
#include "providers/vsphere_soap.h"
#include "providers/vsphere_vim_xml.h"

namespace gitdisc::vsphere {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const MoRef kServiceInstance{"ServiceInstance", "ServiceInstance"};

// <propSet><type>T</type><pathSet>…</pathSet></propSet>
void WritePropSet(XmlWriter& w, const char* type, const std::vector<std::string>& paths) {
  w.Start("propSet");
  w.Element("type", type);
  for (const std::string& p : paths) w.Element("pathSet", p);
  w.End();
}

// <objectSet> over a ContainerView's contents.
void WriteViewObjectSet(XmlWriter& w, const MoRef& view) {
  w.Start("objectSet");
  w.Ref("obj", view);
  w.Bool("skip", true);
  w.StartTyped("selectSet", "TraversalSpec");
  w.Element("name", "view");
  w.Element("type", "ContainerView");
  w.Element("path", "view");
  w.Bool("skip", false);
  w.End();
  w.End();
}

void WriteObjectSet(XmlWriter& w, const MoRef& obj) {
  w.Start("objectSet");
  w.Ref("obj", obj);
  w.Bool("skip", false);
  w.End();
}

// RetrievePropertiesEx arguments: `paths` of `type` on each of `objects`.
std::function<void(XmlWriter&)> PropertiesOf(const char* type, std::vector<std::string> paths,
                                             std::vector<MoRef> objects) {
  return [type, paths = std::move(paths), objects = std::move(objects)](XmlWriter& w) {
    w.Start("specSet");
    WritePropSet(w, type, paths);
    for (const MoRef& o : objects) WriteObjectSet(w, o);
    w.End();
    w.Start("options");
    w.End();
  };
}

// The <val> of a property of the first object in a RetrievePropertiesEx answer.
const xmlNode* FirstPropVal(const SoapResponse& r, const char* name) {
  const xmlNode* objects = Child(r.returnval(), "objects");
  for (const xmlNode* p : Children(objects, "propSet")) {
    if (ChildText(p, "name") == name) return Child(p, "val");
  }
  return nullptr;
}

}  // namespace

VimClient::VimClient(std::unique_ptr<SoapClient> soap, std::string user, std::string password)
    : soap_(std::move(soap)), user_(std::move(user)), password_(std::move(password)) {}

VimClient::~VimClient() {
  if (!soap_->has_session()) return;
  XmlWriter w("Logout");
  w.Ref("_this", session_manager_);
  (void)soap_->Call("Logout", w, milliseconds(5'000));
}

std::string VimClient::endpoint() const { return soap_->base_url(); }

Result<std::unique_ptr<VimClient>> VimClient::Connect(const SoapOptions& options,
                                                      const std::string& user,
                                                      const std::string& password) {
  GITDISC_ASSIGN_OR_RETURN(auto soap, SoapClient::Create(options));
  std::unique_ptr<VimClient> c(new VimClient(std::move(soap), user, password));
  XmlWriter w("RetrieveServiceContent");
  w.Ref("_this", kServiceInstance);
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           c->soap_->Call("RetrieveServiceContent at " + c->endpoint(), w));
  const xmlNode* sc = r.returnval();
  c->property_collector_ = RefOf(Child(sc, "propertyCollector"));
  c->search_index_ = RefOf(Child(sc, "searchIndex"));
  c->session_manager_ = RefOf(Child(sc, "sessionManager"));
  c->view_manager_ = RefOf(Child(sc, "viewManager"));
  c->file_manager_ = RefOf(Child(sc, "fileManager"));
  if (c->property_collector_.empty() || c->session_manager_.empty() || c->view_manager_.empty()) {
    return Status::Invalid("RetrieveServiceContent at " + c->endpoint() +
                           ": not a vCenter/ESXi service (no property collector)");
  }
  GITDISC_RETURN_IF_ERROR(c->Login());
  return c;
}

Status VimClient::Login() {
  {
    std::lock_guard<std::mutex> l(mu_);
    views_.clear();  // session objects die with the session
    update_collector_ = MoRef();
  }
  soap_->ClearSession();
  XmlWriter w("Login");
  w.Ref("_this", session_manager_);
  w.Element("userName", user_);
  w.Element("password", password_);
  auto r = soap_->Call("Login as " + user_ + " at " + endpoint(), w);
  if (!r.ok()) return r.status();
  if (!soap_->has_session()) {
    return Status::Invalid("Login at " + endpoint() + ": no session cookie in the answer");
  }
  return Status::Ok();
}

Result<SoapResponse> VimClient::Invoke(const char* method, const MoRef& self,
                                       const std::string& what,
                                       const std::function<void(XmlWriter&)>& build,
                                       milliseconds timeout, const std::atomic<bool>* cancel) {
  for (int attempt = 0;; ++attempt) {
    XmlWriter w(method);
    w.Ref("_this", self);
    if (build) build(w);
    auto r = soap_->Call(what, w, timeout, cancel);
    if (!r.ok() && attempt == 0 && r.status().code() == Status::Code::kPermission &&
        r.status().message().find("(NotAuthenticated)") != std::string::npos) {
      GITDISC_RETURN_IF_ERROR(Login());
      continue;
    }
    return r;
  }
}

Result<MoRef> VimClient::FindDatacenter(const std::string& path) {
  GITDISC_ASSIGN_OR_RETURN(
      SoapResponse r, Invoke("FindByInventoryPath", search_index_, "FindByInventoryPath " + path,
                             [&](XmlWriter& w) { w.Element("inventoryPath", path); }));
  MoRef ref = RefOf(r.returnval());
  if (ref.empty() || ref.type != "Datacenter") {
    return Status::NotFound("no datacenter '" + path + "' at " + endpoint());
  }
  return ref;
}

Result<MoRef> VimClient::VmFolder(const MoRef& dc) {
  GITDISC_ASSIGN_OR_RETURN(
      SoapResponse r,
      Invoke("RetrievePropertiesEx", property_collector_, "RetrievePropertiesEx vmFolder",
             PropertiesOf("Datacenter", {"vmFolder"}, {dc})));
  MoRef folder = RefOf(FirstPropVal(r, "vmFolder"));
  if (folder.empty()) return Status::NotFound("datacenter " + dc.value + " has no vmFolder");
  return folder;
}

Result<MoRef> VimClient::ContainerView(const MoRef& folder) {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [f, v] : views_) {
      if (f == folder) return v;
    }
  }
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           Invoke("CreateContainerView", view_manager_, "CreateContainerView",
                                  [&](XmlWriter& w) {
                                    w.Ref("container", folder);
                                    w.Element("type", "VirtualMachine");
                                    w.Bool("recursive", true);
                                  }));
  MoRef view = RefOf(r.returnval());
  std::lock_guard<std::mutex> l(mu_);
  views_.emplace_back(folder, view);
  return view;
}

Result<std::vector<VimVm>> VimClient::RetrieveVms(
    const std::function<void(XmlWriter&)>& object_set, const std::vector<std::string>& paths,
    const std::string& what) {
  std::vector<VimVm> out;
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           Invoke("RetrievePropertiesEx", property_collector_, what,
                                  [&](XmlWriter& w) {
                                    w.Start("specSet");
                                    WritePropSet(w, "VirtualMachine", paths);
                                    object_set(w);
                                    w.End();
                                    w.Start("options");
                                    w.Int("maxObjects", 500);
                                    w.End();
                                  }));
  for (;;) {
    for (const xmlNode* o : Children(r.returnval(), "objects")) out.push_back(ParseVmObject(o));
    std::string token = ChildText(r.returnval(), "token");
    if (token.empty()) return out;
    GITDISC_ASSIGN_OR_RETURN(r, Invoke("ContinueRetrievePropertiesEx", property_collector_, what,
                                       [&](XmlWriter& w) { w.Element("token", token); }));
  }
}

Result<std::vector<VimVm>> VimClient::ListVms(const MoRef& folder) {
  GITDISC_ASSIGN_OR_RETURN(MoRef view, ContainerView(folder));
  return RetrieveVms([&](XmlWriter& w) { WriteViewObjectSet(w, view); }, VmPropertyPaths(),
                     "RetrievePropertiesEx (VMs) at " + endpoint());
}

Result<VimVm> VimClient::GetVm(const MoRef& vm) { return GetVmProperties(vm, VmPropertyPaths()); }

Result<VimVm> VimClient::GetVmProperties(const MoRef& vm, const std::vector<std::string>& paths) {
  GITDISC_ASSIGN_OR_RETURN(auto vms, RetrieveVms([&](XmlWriter& w) { WriteObjectSet(w, vm); },
                                                 paths, "RetrievePropertiesEx " + vm.value));
  if (vms.empty()) return Status::NotFound("VM " + vm.value + " does not exist");
  return vms[0];
}

Result<MoRef> VimClient::FindVmByInstanceUuid(const MoRef& dc, const std::string& uuid) {
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           Invoke("FindByUuid", search_index_, "FindByUuid " + uuid,
                                  [&](XmlWriter& w) {
                                    w.Ref("datacenter", dc);
                                    w.Element("uuid", uuid);
                                    w.Bool("vmSearch", true);
                                    w.Bool("instanceUuid", true);
                                  }));
  MoRef ref = RefOf(r.returnval());
  if (ref.empty()) return Status::NotFound("no VM with instance UUID " + uuid);
  return ref;
}

Status VimClient::Reconfigure(const MoRef& vm, const VmEdit& edit, const std::string& what,
                              SteadyClock::time_point deadline) {
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           Invoke("ReconfigVM_Task", vm, "ReconfigVM_Task " + what,
                                  [&](XmlWriter& w) { WriteVmEdit(w, edit); }));
  return WaitForTask(RefOf(r.returnval()), "ReconfigVM_Task " + what, deadline);
}

Status VimClient::WaitForTask(const MoRef& task, const std::string& what,
                              SteadyClock::time_point deadline) {
  return AwaitTask(task, what, deadline, /*want_result=*/false).status();
}

Result<SoapResponse> VimClient::AwaitTask(const MoRef& task, const std::string& what,
                                          SteadyClock::time_point deadline, bool want_result) {
  if (task.empty()) return Status::Invalid(what + ": the server returned no task");
  std::vector<std::string> paths = {"info.state", "info.error"};
  if (want_result) paths.push_back("info.result");
  milliseconds nap(10);
  for (;;) {
    GITDISC_ASSIGN_OR_RETURN(
        SoapResponse r,
        Invoke("RetrievePropertiesEx", property_collector_, what + ": task " + task.value,
               PropertiesOf("Task", paths, {task})));
    std::string state = Text(FirstPropVal(r, "info.state"));
    if (state == "success") return r;
    if (state == "error") {
      std::string type, message;
      ParseLocalizedFault(FirstPropVal(r, "info.error"), &type, &message);
      return FaultStatus(what, type, message);
    }
    auto now = SteadyClock::now();
    if (now >= deadline) {
      return Status::Timeout(what + ": task " + task.value + " still " +
                             (state.empty() ? "unknown" : state) + " at its deadline");
    }
    std::this_thread::sleep_for(std::min<SteadyClock::duration>(nap, deadline - now));
    nap = std::min(nap * 2, milliseconds(500));
  }
}

Status VimClient::MoveDatastoreFile(const MoRef& dc, const std::string& from,
                                    const std::string& to, SteadyClock::time_point deadline) {
  std::string what = "MoveDatastoreFile_Task " + from + " → " + to;
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r, Invoke("MoveDatastoreFile_Task", file_manager_, what,
                                                  [&](XmlWriter& w) {
                                                    w.Element("sourceName", from);
                                                    w.Ref("sourceDatacenter", dc);
                                                    w.Element("destinationName", to);
                                                    w.Ref("destinationDatacenter", dc);
                                                    w.Bool("force", true);
                                                  }));
  return WaitForTask(RefOf(r.returnval()), what, deadline);
}

Status VimClient::MakeDirectory(const MoRef& dc, const std::string& path) {
  auto r = Invoke("MakeDirectory", file_manager_, "MakeDirectory " + path, [&](XmlWriter& w) {
    w.Element("name", path);
    w.Ref("datacenter", dc);
    w.Bool("createParentDirectories", true);
  });
  if (!r.ok() && r.status().message().find("(FileAlreadyExists)") == std::string::npos) {
    return r.status();
  }
  return Status::Ok();
}

Status VimClient::DeleteDatastoreFile(const MoRef& dc, const std::string& path,
                                      SteadyClock::time_point deadline) {
  std::string what = "DeleteDatastoreFile_Task " + path;
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r, Invoke("DeleteDatastoreFile_Task", file_manager_, what,
                                                  [&](XmlWriter& w) {
                                                    w.Element("name", path);
                                                    w.Ref("datacenter", dc);
                                                  }));
  return WaitForTask(RefOf(r.returnval()), what, deadline);
}

Result<std::vector<VimDatastore>> VimClient::ListDatastores(const MoRef& dc) {
  const std::string what = "RetrievePropertiesEx datastores of " + dc.value;
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r,
                           Invoke("RetrievePropertiesEx", property_collector_, what,
                                  PropertiesOf("Datacenter", {"datastore"}, {dc})));
  std::vector<MoRef> refs = ParseRefArray(FirstPropVal(r, "datastore"));
  std::vector<VimDatastore> out;
  if (refs.empty()) return out;
  GITDISC_ASSIGN_OR_RETURN(r, Invoke("RetrievePropertiesEx", property_collector_, what,
                                     PropertiesOf("Datastore", DatastorePropertyPaths(), refs)));
  for (const xmlNode* o : Children(r.returnval(), "objects")) {
    out.push_back(ParseDatastoreObject(o));
  }
  std::sort(out.begin(), out.end(),
            [](const VimDatastore& a, const VimDatastore& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<DatastoreFile>> VimClient::SearchDatastore(
    const VimDatastore& ds, const std::string& folder, const std::vector<std::string>& patterns,
    SteadyClock::time_point deadline) {
  const std::string what = "SearchDatastore_Task " + folder;
  if (ds.browser.empty()) return Status::Invalid(what + ": datastore " + ds.name + " has no browser");
  GITDISC_ASSIGN_OR_RETURN(SoapResponse r, Invoke("SearchDatastore_Task", ds.browser, what,
                                                  [&](XmlWriter& w) {
                                                    w.Element("datastorePath", folder);
                                                    WriteSearchSpec(w, patterns);
                                                  }));
  auto done = AwaitTask(RefOf(r.returnval()), what, deadline, /*want_result=*/true);
  if (!done.ok()) {
    if (done.status().message().find("(FileNotFound)") != std::string::npos) {
      return std::vector<DatastoreFile>{};  // no such folder: nothing in it
    }
    return done.status();
  }
  return ParseSearchResults(FirstPropVal(*done, "info.result"));
}

std::string VimClient::FolderPath(const std::string& dc_path, const std::string& datastore,
                                  const std::string& relative) const {
  return "/folder/" + PercentEncode(relative, /*keep_slash=*/true) + "?dcPath=" + PercentEncode(dc_path) +
         "&dsName=" + PercentEncode(datastore);
}

Status VimClient::Upload(const std::string& dc_path, const std::string& ds,
                         const std::string& relative, const std::string& local_path) {
  return soap_->PutFile(FolderPath(dc_path, ds, relative), local_path,
                        "upload [" + ds + "] " + relative);
}

Status VimClient::UploadData(const std::string& dc_path, const std::string& ds,
                             const std::string& relative, const std::string& data) {
  return soap_->PutData(FolderPath(dc_path, ds, relative), data, "upload [" + ds + "] " + relative);
}

Result<int64_t> VimClient::FileSize(const std::string& dc_path, const std::string& ds,
                                    const std::string& relative) {
  GITDISC_ASSIGN_OR_RETURN(SoapClient::Head h, soap_->HeadFile(FolderPath(dc_path, ds, relative),
                                                               "HEAD [" + ds + "] " + relative));
  if (h.status == 404) return int64_t{-1};
  if (h.status != 200) {
    return Status::Unavailable("HEAD [" + ds + "] " + relative + ": the datastore answered HTTP " +
                               std::to_string(h.status));
  }
  return h.length;
}

Status VimClient::Download(const std::string& dc_path, const std::string& ds,
                           const std::string& relative, const std::string& local_path) {
  return soap_->GetFile(FolderPath(dc_path, ds, relative), local_path,
                        "download [" + ds + "] " + relative);
}

Result<VimClient::Updates> VimClient::WaitForVmUpdates(const MoRef& folder,
                                                       const std::string& version,
                                                       std::chrono::seconds max_wait,
                                                       const std::atomic<bool>* cancel) {
  MoRef pc;
  {
    std::lock_guard<std::mutex> l(mu_);
    pc = update_collector_;
  }
  if (pc.empty() || version.empty()) {
    GITDISC_ASSIGN_OR_RETURN(MoRef view, ContainerView(folder));
    GITDISC_ASSIGN_OR_RETURN(SoapResponse r, Invoke("CreatePropertyCollector", property_collector_,
                                                    "CreatePropertyCollector", nullptr));
    pc = RefOf(r.returnval());
    GITDISC_ASSIGN_OR_RETURN(r, Invoke("CreateFilter", pc, "CreateFilter", [&](XmlWriter& w) {
                               w.Start("spec");
                               WritePropSet(w, "VirtualMachine",
                                            {"name", "config.instanceUuid", "runtime.powerState",
                                             "config.hardware.device", "config.extraConfig"});
                               WriteViewObjectSet(w, view);
                               w.End();
                               w.Bool("partialUpdates", false);
                             }));
    std::lock_guard<std::mutex> l(mu_);
    update_collector_ = pc;
  }
  GITDISC_ASSIGN_OR_RETURN(
      SoapResponse r,
      Invoke("WaitForUpdatesEx", pc, "WaitForUpdatesEx at " + endpoint(),
             [&](XmlWriter& w) {
               w.Element("version", version);
               w.Start("options");
               w.Int("maxWaitSeconds", max_wait.count());
               w.End();
             },
             std::chrono::duration_cast<milliseconds>(max_wait) + milliseconds(30'000), cancel));
  Updates out;
  out.version = version;
  const xmlNode* set = r.returnval();
  if (!set) return out;  // nothing changed within max_wait
  out.version = ChildText(set, "version");
  for (const xmlNode* fs : Children(set, "filterSet")) {
    for (const xmlNode* os : Children(fs, "objectSet")) {
      VmChange c;
      c.vm = RefOf(Child(os, "obj"));
      c.kind = ChildText(os, "kind");
      c.props.ref = c.vm;
      for (const xmlNode* ch : Children(os, "changeSet")) {
        std::string name = ChildText(ch, "name");
        ApplyVmProperty(c.props, name, Child(ch, "val"));
        c.changed.push_back(name);
      }
      out.changes.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace gitdisc::vsphere
