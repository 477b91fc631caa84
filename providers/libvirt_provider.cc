#include "providers/libvirt_provider.h"

#include <fcntl.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/c_handle.h"
#include "base/markup_escape.h"
#include "providers/domain_xml.h"
#include "providers/qemu_access.h"

namespace gitdisc {

// ---------------------------------------------------------------------------
// Handles and errors.

namespace {

using ConnPtr = CHandle<virConnect, virConnectClose>;
using DomainPtr = CHandle<virDomain, virDomainFree>;
using PoolPtr = CHandle<virStoragePool, virStoragePoolFree>;
using VolPtr = CHandle<virStorageVol, virStorageVolFree>;
using StreamPtr = CHandle<virStream, virStreamFree>;

struct CFree {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, CFree>;

constexpr char kPoolName[] = "gitdisc";

bool MentionsTray(const std::string& msg) {
  return msg.find("tray") != std::string::npos || msg.find("Tray") != std::string::npos;
}

// Turns libvirt's per-thread last error into a Status. Call it on the thread
// of the failing call, right after it.
Status LibvirtError(std::string_view call, std::string_view what) {
  virErrorPtr e = virGetLastError();
  std::string msg = std::string(call);
  if (!what.empty()) msg += " " + std::string(what);
  msg += ": ";
  msg += (e && e->message) ? e->message : "unknown libvirt error";
  if (!e) return Status::Internal(msg);
  switch (e->code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_DOMAIN_METADATA:
      return Status::NotFound(msg);
    case VIR_ERR_OPERATION_INVALID:
      return Status::Conflict(msg);
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return Status::Timeout(msg);
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_UNAVAILABLE:
      return Status::Unavailable(msg);
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_ACCESS_DENIED:
      return Status::Permission(msg);
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return Status::Invalid(msg);
    default:
      break;
  }
  if (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE) return Status::Unavailable(msg);
  if (MentionsTray(msg)) return Status::Timeout(msg);
  return Status::Internal(msg);
}

void SilentErrorFunc(void*, virErrorPtr) {}

}  // namespace

// ---------------------------------------------------------------------------
// The event loop.

// Owns the thread that runs libvirt's default event loop. libvirt's event
// implementation is process-wide state: it is registered once per process
// (std::call_once) and run by one thread at a time, so providers share one
// LibvirtEventLoop through Acquire(); the thread stops when the last holder
// releases it.
class LibvirtEventLoop {
 public:
  static Result<std::shared_ptr<LibvirtEventLoop>> Acquire() {
    static std::once_flag once;
    static int init_rc = 0;
    std::call_once(once, [] {
      if (virInitialize() < 0) {
        init_rc = -1;
        return;
      }
      // Errors come back as Status; libvirt's default handler would also
      // print every one (including expected "domain not found") to stderr.
      virSetErrorFunc(nullptr, SilentErrorFunc);
      init_rc = virEventRegisterDefaultImpl();
    });
    if (init_rc < 0) return LibvirtError("virEventRegisterDefaultImpl", "");
    static std::mutex mu;
    static std::weak_ptr<LibvirtEventLoop> current;
    std::lock_guard<std::mutex> l(mu);
    if (auto loop = current.lock()) return loop;
    auto loop = std::shared_ptr<LibvirtEventLoop>(new LibvirtEventLoop());
    GITDISC_RETURN_IF_ERROR(loop->Start());
    current = loop;
    return loop;
  }

  ~LibvirtEventLoop() {
    stop_.store(true);
    if (timer_ >= 0) virEventUpdateTimeout(timer_, 0);  // wake the loop now
    if (thread_.joinable()) thread_.join();
    if (timer_ >= 0) virEventRemoveTimeout(timer_);
  }

 private:
  LibvirtEventLoop() = default;

  Status Start() {
    // A periodic timer makes every virEventRunDefaultImpl() return within
    // 200 ms, so the thread notices stop_ without relying on other events.
    timer_ = virEventAddTimeout(
        200, [](int, void*) {}, nullptr, nullptr);
    if (timer_ < 0) return LibvirtError("virEventAddTimeout", "");
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (virEventRunDefaultImpl() < 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    return Status::Ok();
  }

  std::atomic<bool> stop_{false};
  int timer_ = -1;
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// Provider state.

// Shared by the provider and every libvirt callback registration, so a
// callback running on the loop thread never touches a destroyed provider:
// the provider clears `callback` (under `mu`) before it goes away.
struct LibvirtProvider::EventSink {
  std::mutex mu;
  EventCallback callback;
  // Set once Watch registered callbacks. Read without `mu`, so that a
  // callback calling back into the provider (which may reconnect) cannot
  // deadlock on it.
  std::atomic<bool> watching{false};

  void Dispatch(const std::string& key, EventKind kind) {
    std::lock_guard<std::mutex> l(mu);
    if (callback) callback(key, kind);
  }
};

namespace {
// What a libvirt callback registration carries: the shared sink and the host URI.
struct CallbackData {
  std::shared_ptr<LibvirtProvider::EventSink> sink;
  std::string host;
};
}  // namespace

struct LibvirtProvider::Host {
  std::string uri;
  bool remote = false;
  std::mutex mu;  // guards conn, callback_ids, close_registered
  ConnPtr conn;
  std::vector<int> callback_ids;
  bool close_registered = false;
  // Owned here, not handed to libvirt with a free callback: drivers without
  // close-callback support (test:///) accept the registration but never
  // call the free callback.
  std::unique_ptr<CallbackData> close_data;
  std::mutex upload_mu;  // one upload per host at a time
};

namespace {

void FreeCallbackData(void* opaque) { delete static_cast<CallbackData*>(opaque); }

void DispatchDomain(virDomainPtr dom, void* opaque, EventKind kind) {
  auto* data = static_cast<CallbackData*>(opaque);
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) < 0) return;
  data->sink->Dispatch(MakeVmKey(data->host, uuid), kind);
}

int OnLifecycle(virConnectPtr, virDomainPtr dom, int, int, void* opaque) {
  DispatchDomain(dom, opaque, EventKind::kLifecycle);
  return 0;
}
void OnTray(virConnectPtr, virDomainPtr dom, const char*, int, void* opaque) {
  DispatchDomain(dom, opaque, EventKind::kTrayChanged);
}
void OnDisk(virConnectPtr, virDomainPtr dom, const char*, const char*, const char*, int,
            void* opaque) {
  DispatchDomain(dom, opaque, EventKind::kDiskChanged);
}
void OnMetadata(virConnectPtr, virDomainPtr dom, int, const char*, void* opaque) {
  DispatchDomain(dom, opaque, EventKind::kMetadata);
}
void OnClose(virConnectPtr, int reason, void* opaque) {
  if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT) return;  // we closed it ourselves
  auto* data = static_cast<CallbackData*>(opaque);
  data->sink->Dispatch(data->host, EventKind::kHostLost);
}

// Requires host.mu. Registers domain events and the close callback on host.conn.
Status RegisterEventsLocked(LibvirtProvider::Host& host,
                            const std::shared_ptr<LibvirtProvider::EventSink>& sink) {
  struct Spec {
    int id;
    virConnectDomainEventGenericCallback cb;
  };
  const Spec specs[] = {
      {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
      {VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnTray)},
      {VIR_DOMAIN_EVENT_ID_DISK_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnDisk)},
      {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnMetadata)},
  };
  for (const Spec& s : specs) {
    auto* data = new CallbackData{sink, host.uri};
    int id = virConnectDomainEventRegisterAny(host.conn.get(), nullptr, s.id, s.cb, data,
                                              FreeCallbackData);
    if (id < 0) {
      Status st = LibvirtError("virConnectDomainEventRegisterAny", host.uri);
      delete data;
      return st;
    }
    host.callback_ids.push_back(id);
  }
  if (!host.close_registered) {
    host.close_data = std::make_unique<CallbackData>(CallbackData{sink, host.uri});
    if (virConnectRegisterCloseCallback(host.conn.get(), OnClose, host.close_data.get(), nullptr) <
        0) {
      Status st = LibvirtError("virConnectRegisterCloseCallback", host.uri);
      host.close_data.reset();
      return st;
    }
    host.close_registered = true;
  }
  return Status::Ok();
}

// Requires host.mu.
void DeregisterEventsLocked(LibvirtProvider::Host& host) {
  if (!host.conn) return;
  for (int id : host.callback_ids) virConnectDomainEventDeregisterAny(host.conn.get(), id);
  host.callback_ids.clear();
  // Unregistering waits for a running close callback, so the data can go.
  if (host.close_registered) virConnectUnregisterCloseCallback(host.conn.get(), OnClose);
  host.close_registered = false;
  host.close_data.reset();
}

Result<ConnPtr> OpenConnection(const std::string& uri, bool remote) {
  ConnPtr conn(virConnectOpen(uri.c_str()));
  if (!conn) {
    Status s = LibvirtError("virConnectOpen", uri);
    return Status::Unavailable(s.message());
  }
  // Notice a dead peer within ~20 s on remote links (needs the event loop).
  if (remote) virConnectSetKeepAlive(conn.get(), 5, 3);
  return conn;
}

struct DomainRef {
  ConnPtr conn;
  DomainPtr dom;
  std::string name;
};

std::string DomainName(virDomainPtr dom) {
  const char* n = virDomainGetName(dom);
  return n ? n : "?";
}

Result<std::string> GetXml(virDomainPtr dom, unsigned flags, const std::string& name) {
  CString xml(virDomainGetXMLDesc(dom, flags));
  if (!xml) return LibvirtError("virDomainGetXMLDesc", name);
  return std::string(xml.get());
}

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

// virDomainUpdateDeviceFlags for a CD-ROM media change, with recovery from
// a stale tray state. libvirt tracks the tray from QEMU's DEVICE_TRAY_MOVED
// events and skips opening a tray it believes open. When the guest closes
// the tray right after libvirt opened it (SeaBIOS probing its drives at
// boot does; measured here), libvirt can be left believing "open" while
// QEMU's tray is closed: every later change then fails with QEMU's "Tray
// ... is not open", forever. Recovery: open the tray in QEMU
// (blockdev-open-tray through the monitor; force only when the caller
// allows forcing), which makes both views agree, then retry. Returns 0, or
// -1 with libvirt's last error set from the last attempt.
int UpdateDevice(virDomainPtr dom, const std::string& disk_xml, unsigned flags,
                 const std::string& alias, bool may_force_tray, std::atomic<int>* repairs) {
  for (int attempt = 0;; ++attempt) {
    if (virDomainUpdateDeviceFlags(dom, disk_xml.c_str(), flags) == 0) return 0;
    virErrorPtr e = virGetLastError();
    std::string msg = e && e->message ? e->message : "";
    if (attempt >= 4 || msg.find("is not open") == std::string::npos || alias.empty()) return -1;
    std::string cmd = "{\"execute\":\"blockdev-open-tray\",\"arguments\":{\"id\":\"" + alias +
                      "\",\"force\":" + (may_force_tray ? "true" : "false") + "}}";
    char* reply = nullptr;
    virDomainQemuMonitorCommand(dom, cmd.c_str(), &reply, 0);
    repairs->fetch_add(1);
    std::free(reply);  // the next attempt's outcome is what counts
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
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
  return vm;
}

// Checks that the QEMU user (not root) can open `path`: the file becomes
// readable to all (its folder keeps others out), and each directory above it
// must be searchable by QEMU's user (providers/qemu_access.h).
Status MakeReadableByQemu(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::Invalid("PrepareImage: image path must be absolute: '" + path + "'");
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("PrepareImage: stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid("PrepareImage: not a regular file: " + path);
  if ((st.st_mode & 0444) != 0444 && ::chmod(path.c_str(), (st.st_mode & 07777) | 0444) != 0) {
    return Status::FromErrno("PrepareImage: chmod a+r " + path, errno);
  }
  const QemuIdentity qemu = LocalQemuIdentity();
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0) return Status::FromErrno("PrepareImage: stat " + dir, errno);
    if (!QemuCanSearch(qemu, st.st_mode, st.st_uid, st.st_gid)) {
      return Status::Permission("PrepareImage: QEMU (user " + qemu.user + ") cannot reach " +
                                path + ": directory " + dir + " is not searchable by it (chgrp " +
                                qemu.user + " " + dir + " && chmod g+x " + dir +
                                ", or keep the image cache elsewhere)");
    }
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Connections.

LibvirtProvider::LibvirtProvider(std::shared_ptr<LibvirtEventLoop> loop, Options options)
    : loop_(std::move(loop)), options_(std::move(options)), sink_(std::make_shared<EventSink>()) {}

Result<std::unique_ptr<LibvirtProvider>> LibvirtProvider::Open(std::vector<std::string> uris,
                                                               Options options) {
  if (uris.empty()) return Status::Invalid("LibvirtProvider: no connection URI given");
  GITDISC_ASSIGN_OR_RETURN(auto loop, LibvirtEventLoop::Acquire());
  std::unique_ptr<LibvirtProvider> p(new LibvirtProvider(std::move(loop), std::move(options)));
  for (const std::string& uri : uris) {
    for (const auto& h : p->hosts_) {
      if (h->uri == uri) return Status::Invalid("LibvirtProvider: URI given twice: " + uri);
    }
    auto host = std::make_unique<Host>();
    host->uri = uri;
    host->remote = IsRemoteUri(uri);
    GITDISC_ASSIGN_OR_RETURN(host->conn, OpenConnection(uri, host->remote));
    p->hosts_.push_back(std::move(host));
  }
  return p;
}

LibvirtProvider::~LibvirtProvider() {
  {
    std::lock_guard<std::mutex> l(sink_->mu);
    sink_->callback = nullptr;
  }
  for (auto& h : hosts_) {
    std::lock_guard<std::mutex> l(h->mu);
    DeregisterEventsLocked(*h);
    h->conn.reset();
  }
  // loop_ goes last: its thread may still dispatch into sink_ until here,
  // which is safe because the sink outlives every registration.
}

std::vector<std::string> LibvirtProvider::Hosts() const {
  std::vector<std::string> out;
  for (const auto& h : hosts_) out.push_back(h->uri);
  return out;
}

LibvirtProvider::Stats LibvirtProvider::stats() const {
  Stats s;
  s.uploads = uploads_.load();
  s.reused_volumes = reused_.load();
  s.forced_inserts = forced_inserts_.load();
  s.forced_ejects = forced_ejects_.load();
  s.reconnects = reconnects_.load();
  s.tray_repairs = tray_repairs_.load();
  return s;
}

namespace {

// A new reference to the host's connection, reopening it if it died.
Result<ConnPtr> AcquireConn(LibvirtProvider::Host& host,
                            const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                            std::atomic<int>& reconnects) {
  std::lock_guard<std::mutex> l(host.mu);
  if (!host.conn || virConnectIsAlive(host.conn.get()) != 1) {
    bool watching = sink->watching.load();
    DeregisterEventsLocked(host);
    host.conn.reset();
    GITDISC_ASSIGN_OR_RETURN(host.conn, OpenConnection(host.uri, host.remote));
    reconnects.fetch_add(1);
    if (watching) GITDISC_RETURN_IF_ERROR(RegisterEventsLocked(host, sink));
  }
  virConnectRef(host.conn.get());
  return ConnPtr(host.conn.get());
}

}  // namespace

// Finds the host of `key` and looks the domain up by uuid.
static Result<DomainRef> Lookup(const std::vector<std::unique_ptr<LibvirtProvider::Host>>& hosts,
                                const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                                std::atomic<int>& reconnects, const std::string& key) {
  std::string host_uri, uuid;
  GITDISC_RETURN_IF_ERROR(SplitVmKey(key, &host_uri, &uuid));
  for (const auto& h : hosts) {
    if (h->uri != host_uri) continue;
    DomainRef ref;
    GITDISC_ASSIGN_OR_RETURN(ref.conn, AcquireConn(*h, sink, reconnects));
    ref.dom.reset(virDomainLookupByUUIDString(ref.conn.get(), uuid.c_str()));
    if (!ref.dom) return LibvirtError("virDomainLookupByUUIDString", key);
    ref.name = DomainName(ref.dom.get());
    return ref;
  }
  return Status::NotFound("VM " + key + ": host " + host_uri + " is not connected");
}

// ---------------------------------------------------------------------------
// Inventory and labels.

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
    std::free(doms);
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
    std::map<std::string, std::string> labels;
    CString current(
        virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, kLabelsNamespace, scope));
    if (current) {
      GITDISC_ASSIGN_OR_RETURN(labels, ParseLabelsXml(current.get()));
    } else {
      Status s = LibvirtError("virDomainGetMetadata", ref.name);
      virErrorPtr e = virGetLastError();
      if (!(e && e->code == VIR_ERR_NO_DOMAIN_METADATA)) return s;
    }
    for (const auto& k : remove) labels.erase(k);
    for (const auto& [k, v] : set) labels[k] = v;
    int rc;
    if (labels.empty()) {
      rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, nullptr, nullptr,
                                kLabelsNamespace, scope);
    } else {
      std::string body = LabelsMetadataBody(labels);
      rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, body.c_str(), "g",
                                kLabelsNamespace, scope);
    }
    if (rc < 0) return LibvirtError("virDomainSetMetadata", ref.name);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Delivery.

namespace {

Result<PoolPtr> EnsurePool(virConnectPtr conn, const std::string& uri,
                           const std::string& target_dir) {
  PoolPtr pool(virStoragePoolLookupByName(conn, kPoolName));
  if (!pool) {
    std::string xml = std::string("<pool type='dir'><name>") + kPoolName + "</name><target><path>" +
                      EscapeMarkup(target_dir) +
                      "</path><permissions><mode>0755</mode></permissions></target></pool>";
    pool.reset(virStoragePoolDefineXML(conn, xml.c_str(), 0));
    if (!pool)
      return LibvirtError("virStoragePoolDefineXML", std::string(kPoolName) + " on " + uri);
    if (virStoragePoolBuild(pool.get(), 0) < 0) {
      return LibvirtError("virStoragePoolBuild", std::string(kPoolName) + " on " + uri);
    }
    virStoragePoolSetAutostart(pool.get(), 1);
  }
  int active = virStoragePoolIsActive(pool.get());
  if (active < 0) return LibvirtError("virStoragePoolIsActive", kPoolName);
  if (!active && virStoragePoolCreate(pool.get(), 0) < 0) {
    return LibvirtError("virStoragePoolCreate", std::string(kPoolName) + " on " + uri);
  }
  if (virStoragePoolRefresh(pool.get(), 0) < 0) {
    return LibvirtError("virStoragePoolRefresh", std::string(kPoolName) + " on " + uri);
  }
  return pool;
}

Result<VolPtr> CreateVolume(virStoragePoolPtr pool, const std::string& name, uint64_t bytes) {
  std::string xml = "<volume><name>" + EscapeMarkup(name) + "</name><capacity unit='bytes'>" +
                    std::to_string(bytes) +
                    "</capacity><allocation unit='bytes'>0</allocation><target><format "
                    "type='raw'/><permissions><mode>0644</mode></permissions></target></volume>";
  VolPtr vol(virStorageVolCreateXML(pool, xml.c_str(), 0));
  if (!vol) return LibvirtError("virStorageVolCreateXML", name);
  return vol;
}

Status Upload(virConnectPtr conn, virStorageVolPtr vol, const std::string& local_path,
              uint64_t size, const std::string& what) {
  int fd = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("PrepareImage: open " + local_path, errno);
  std::unique_ptr<int, void (*)(int*)> fd_guard(&fd, [](int* f) { ::close(*f); });
  StreamPtr st(virStreamNew(conn, 0));
  if (!st) return LibvirtError("virStreamNew", what);
  if (virStorageVolUpload(vol, st.get(), 0, size, 0) < 0) {
    return LibvirtError("virStorageVolUpload", what);
  }
  std::vector<char> buf(1 << 20);
  uint64_t sent_total = 0;
  while (sent_total < size) {
    ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      Status s = Status::FromErrno("PrepareImage: read " + local_path, errno);
      virStreamAbort(st.get());
      return s;
    }
    if (got == 0) {
      virStreamAbort(st.get());
      return Status::Io("PrepareImage: " + local_path + " shrank during upload");
    }
    size_t off = 0;
    while (off < static_cast<size_t>(got)) {
      int n = virStreamSend(st.get(), buf.data() + off, static_cast<size_t>(got) - off);
      if (n < 0) {
        Status s = LibvirtError("virStreamSend", what);
        virStreamAbort(st.get());
        return s;
      }
      off += static_cast<size_t>(n);
    }
    sent_total += static_cast<uint64_t>(got);
  }
  if (virStreamFinish(st.get()) < 0) return LibvirtError("virStreamFinish", what);
  return Status::Ok();
}

}  // namespace

Result<std::string> LibvirtProvider::PrepareImage(const std::string& host_uri,
                                                  const std::string& local_iso_path,
                                                  const std::string& digest) {
  Host* host = nullptr;
  for (const auto& h : hosts_) {
    if (h->uri == host_uri) host = h.get();
  }
  if (!host) return Status::NotFound("PrepareImage: host " + host_uri + " is not connected");
  if (!host->remote) {
    GITDISC_RETURN_IF_ERROR(MakeReadableByQemu(local_iso_path));
    return local_iso_path;
  }
  if (digest.empty() || digest.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::Invalid("PrepareImage: digest must be lowercase hex, got '" + digest + "'");
  }
  struct stat st;
  if (::stat(local_iso_path.c_str(), &st) != 0) {
    return Status::FromErrno("PrepareImage: stat " + local_iso_path, errno);
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);

  std::lock_guard<std::mutex> upload_lock(host->upload_mu);
  GITDISC_ASSIGN_OR_RETURN(ConnPtr conn, AcquireConn(*host, sink_, reconnects_));
  GITDISC_ASSIGN_OR_RETURN(PoolPtr pool,
                           EnsurePool(conn.get(), host_uri, options_.pool_target_dir));
  const std::string vol_name = digest + ".iso";
  const std::string marker_name = vol_name + ".ok";
  VolPtr vol(virStorageVolLookupByName(pool.get(), vol_name.c_str()));
  VolPtr marker(virStorageVolLookupByName(pool.get(), marker_name.c_str()));
  virResetLastError();
  if (vol && marker) {
    virStorageVolInfo info;
    if (virStorageVolGetInfo(vol.get(), &info) == 0 && info.capacity == size) {
      CString path(virStorageVolGetPath(vol.get()));
      if (!path) return LibvirtError("virStorageVolGetPath", vol_name);
      reused_.fetch_add(1);
      return std::string(path.get());
    }
  }
  // Missing, interrupted (no marker) or of another size: start over.
  if (marker && virStorageVolDelete(marker.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", marker_name);
  }
  if (vol && virStorageVolDelete(vol.get(), 0) < 0) {
    return LibvirtError("virStorageVolDelete", vol_name);
  }
  const std::string what = vol_name + " on " + host_uri;
  GITDISC_ASSIGN_OR_RETURN(vol, CreateVolume(pool.get(), vol_name, size));
  Status up = Upload(conn.get(), vol.get(), local_iso_path, size, what);
  if (!up.ok()) {
    virStorageVolDelete(vol.get(), 0);
    return up;
  }
  GITDISC_ASSIGN_OR_RETURN(marker, CreateVolume(pool.get(), marker_name, 0));
  CString path(virStorageVolGetPath(vol.get()));
  if (!path) return LibvirtError("virStorageVolGetPath", what);
  uploads_.fetch_add(1);
  return std::string(path.get());
}

// ---------------------------------------------------------------------------
// Media.

Status LibvirtProvider::InsertMedia(const std::string& key, const std::string& drive_target,
                                    const std::string& host_path) {
  if (host_path.empty()) return Status::Invalid("InsertMedia: empty image path");
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int active = virDomainIsActive(dom);
  if (active < 0) return LibvirtError("virDomainIsActive", ref.name);
  if (!active) return Status::Conflict("InsertMedia " + ref.name + ": VM is not running");
  GITDISC_ASSIGN_OR_RETURN(std::string xml, GetXml(dom, 0, ref.name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  const DriveInfo* drive = nullptr;
  for (const DriveInfo& d : parsed.cdroms) {
    if (d.target == drive_target) drive = &d;
  }
  if (!drive) {
    return Status::NotFound("InsertMedia " + ref.name + ": no CD-ROM drive " + drive_target);
  }
  if (drive->source == host_path) return Status::Ok();
  if (!drive->source.empty()) {
    return Status::Conflict(std::string(kDriveBusy) + ": " + ref.name + " drive " + drive_target +
                            " holds " + drive->source);
  }
  std::string disk = CdromDiskXml(*drive, host_path);
  const std::string alias = FindDriveAlias(xml, drive_target);
  // The drive is empty, so forcing its tray pulls nothing from anyone.
  if (UpdateDevice(dom, disk, VIR_DOMAIN_AFFECT_LIVE, alias, true, &tray_repairs_) == 0) {
    return Status::Ok();
  }
  Status first = LibvirtError("virDomainUpdateDeviceFlags", ref.name + " " + drive_target);
  if (!MentionsTray(first.message())) return first;
  // The guest keeps the (empty) drive's tray locked: force it. Nothing is
  // pulled from anyone, the drive holds no media.
  if (UpdateDevice(dom, disk,
                   static_cast<unsigned>(VIR_DOMAIN_AFFECT_LIVE) |
                       static_cast<unsigned>(VIR_DOMAIN_DEVICE_MODIFY_FORCE),
                   alias, true, &tray_repairs_) < 0) {
    return LibvirtError("virDomainUpdateDeviceFlags(FORCE)", ref.name + " " + drive_target)
        .Annotate("after " + first.message());
  }
  forced_inserts_.fetch_add(1);
  return Status::Ok();
}

Status LibvirtProvider::EjectMedia(const std::string& key, const std::string& drive_target,
                                   const std::string& expected_source, bool force) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int active = virDomainIsActive(dom);
  if (active < 0) return LibvirtError("virDomainIsActive", ref.name);
  // A shut-off VM has no live drive; gitdisc only ever inserts live, so the
  // persistent definition is checked only so foreign media there is reported.
  GITDISC_ASSIGN_OR_RETURN(std::string xml,
                           GetXml(dom, active ? 0 : VIR_DOMAIN_XML_INACTIVE, ref.name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  const DriveInfo* drive = nullptr;
  for (const DriveInfo& d : parsed.cdroms) {
    if (d.target == drive_target) drive = &d;
  }
  if (!drive) {
    return Status::NotFound("EjectMedia " + ref.name + ": no CD-ROM drive " + drive_target);
  }
  if (drive->source.empty()) return Status::Ok();
  if (drive->source != expected_source) {
    return Status::Conflict(std::string(kDriveBusy) + ": " + ref.name + " drive " + drive_target +
                            " holds " + drive->source + ", not " + expected_source);
  }
  std::string disk = CdromDiskXml(*drive, "");
  unsigned flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
  if (force) flags |= VIR_DOMAIN_DEVICE_MODIFY_FORCE;
  if (UpdateDevice(dom, disk, flags, active ? FindDriveAlias(xml, drive_target) : "", force,
                   &tray_repairs_) < 0) {
    Status s = LibvirtError("virDomainUpdateDeviceFlags", ref.name + " " + drive_target);
    if (!force && MentionsTray(s.message())) {
      return Status::Timeout(s.message() +
                             " (the guest keeps the tray locked; eject with force "
                             "once the agent released the disc)");
    }
    return s;
  }
  if (force) forced_ejects_.fetch_add(1);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Channel.

namespace {

// A ByteStream over a non-blocking libvirt stream. virStreamRecv returns -2
// when no data is buffered; data arrives through the event loop thread, so a
// read polls with short sleeps until its deadline. A stream whose libvirtd
// went away (restarted, host down) may keep answering -2, so a waiting read
// also checks, about once a second, that the connection is still alive.
class ChannelStream final : public ByteStream {
 public:
  ChannelStream(StreamPtr st, ConnPtr conn, std::string what)
      : st_(std::move(st)), conn_(std::move(conn)), what_(std::move(what)) {}
  ~ChannelStream() override { Close(); }

  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto nap = std::chrono::milliseconds(1);
    for (;;) {
      int got;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!st_) return Status::Io("read " + what_ + ": stream closed");
        got = virStreamRecv(st_.get(), buf, n);
        if (got == -1) return LibvirtError("virStreamRecv", what_);
      }
      if (got >= 0) return static_cast<size_t>(got);
      auto now = std::chrono::steady_clock::now();
      if (now >= next_alive_check_) {
        next_alive_check_ = now + std::chrono::seconds(1);
        if (conn_ && virConnectIsAlive(conn_.get()) != 1) {
          return Status::Unavailable("read " + what_ + ": the connection to libvirtd is closed");
        }
      }
      if (now >= deadline) {
        return Status::Timeout("read " + what_ + ": nothing arrived in " +
                               std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(nap, deadline - now));
      nap = std::min(nap * 2, std::chrono::milliseconds(20));
    }
  }

  Status Write(std::string_view data) override {
    auto last_progress = std::chrono::steady_clock::now();
    auto nap = std::chrono::milliseconds(1);
    while (!data.empty()) {
      int sent;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!st_) return Status::Io("write " + what_ + ": stream closed");
        sent = virStreamSend(st_.get(), data.data(), data.size());
        if (sent == -1) return LibvirtError("virStreamSend", what_);
      }
      if (sent > 0) {
        data.remove_prefix(static_cast<size_t>(sent));
        last_progress = std::chrono::steady_clock::now();
        nap = std::chrono::milliseconds(1);
        continue;
      }
      if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(30)) {
        return Status::Timeout("write " + what_ + ": no progress for 30 s");
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::milliseconds(20));
    }
    return Status::Ok();
  }

  void Close() override {
    std::lock_guard<std::mutex> l(mu_);
    if (!st_) return;
    virStreamAbort(st_.get());  // ends the channel now; nothing is left to flush
    virResetLastError();
    st_.reset();
  }

 private:
  std::mutex mu_;
  StreamPtr st_;
  ConnPtr conn_;
  const std::string what_;
  std::chrono::steady_clock::time_point next_alive_check_{};
};

}  // namespace

Result<std::unique_ptr<ByteStream>> LibvirtProvider::OpenAgentChannel(const std::string& key) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  int active = virDomainIsActive(dom);
  if (active < 0) return LibvirtError("virDomainIsActive", ref.name);
  if (!active) return Status::Conflict("OpenAgentChannel " + ref.name + ": VM is not running");
  GITDISC_ASSIGN_OR_RETURN(std::string xml, GetXml(dom, 0, ref.name));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  if (!parsed.has_agent_channel) {
    return Status::NotFound("OpenAgentChannel " + ref.name + ": the domain has no channel " +
                            kAgentChannelName);
  }
  StreamPtr st(virStreamNew(ref.conn.get(), VIR_STREAM_NONBLOCK));
  if (!st) return LibvirtError("virStreamNew", ref.name);
  if (virDomainOpenChannel(dom, kAgentChannelName, st.get(), VIR_DOMAIN_CHANNEL_FORCE) < 0) {
    return LibvirtError("virDomainOpenChannel", ref.name);
  }
  virConnectRef(ref.conn.get());  // the stream's own reference, for IsAlive
  return std::unique_ptr<ByteStream>(
      std::make_unique<ChannelStream>(std::move(st), ConnPtr(ref.conn.get()),
                                      ref.name + " " + kAgentChannelName));
}

// ---------------------------------------------------------------------------
// Events.

Status LibvirtProvider::Watch(EventCallback callback) {
  {
    std::lock_guard<std::mutex> l(sink_->mu);
    sink_->callback = std::move(callback);
  }
  // Registrations exist already: only the callback changed.
  if (sink_->watching.exchange(true)) return Status::Ok();
  for (auto& h : hosts_) {
    std::lock_guard<std::mutex> l(h->mu);
    if (!h->conn) continue;
    Status s = RegisterEventsLocked(*h, sink_);
    if (!s.ok()) {
      DeregisterEventsLocked(*h);
      sink_->watching.store(false);
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace gitdisc
