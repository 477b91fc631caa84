#include "providers/libvirt_events.h"

#include <chrono>

namespace gitdisc {

// ---------------------------------------------------------------------------
// The loop.

namespace {
void SilentErrorFunc(void*, virErrorPtr) {}
}  // namespace

Result<std::shared_ptr<LibvirtEventLoop>> LibvirtEventLoop::Acquire() {
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

LibvirtEventLoop::~LibvirtEventLoop() {
  stop_.store(true);
  if (timer_ >= 0) virEventUpdateTimeout(timer_, 0);  // wake the loop now
  if (thread_.joinable()) thread_.join();
  if (timer_ >= 0) virEventRemoveTimeout(timer_);
}

Status LibvirtEventLoop::Start() {
  // A periodic timer makes every virEventRunDefaultImpl() return within
  // 200 ms, so the thread notices stop_ without relying on other events.
  timer_ = virEventAddTimeout(
      200, [](int, void*) {}, nullptr, nullptr);
  if (timer_ < 0) return LibvirtError("virEventAddTimeout", "");
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      if (virEventRunDefaultImpl() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Callbacks.

namespace {

using CallbackData = EventRegistration::CallbackData;

// libvirt frees each domain-event registration's data with this.
void FreeCallbackData(void* opaque) {
  std::unique_ptr<CallbackData>(static_cast<CallbackData*>(opaque));
}

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

}  // namespace

// ---------------------------------------------------------------------------
// Registration.

Result<std::unique_ptr<EventRegistration>> EventRegistration::Register(
    virConnectPtr conn, const std::string& uri, std::shared_ptr<LibvirtProvider::EventSink> sink) {
  std::unique_ptr<EventRegistration> reg(new EventRegistration());
  virConnectRef(conn);
  reg->conn_.reset(conn);
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
    auto data = std::make_unique<CallbackData>(CallbackData{sink, uri});
    int id =
        virConnectDomainEventRegisterAny(conn, nullptr, s.id, s.cb, data.get(), FreeCallbackData);
    if (id < 0) return LibvirtError("virConnectDomainEventRegisterAny", uri);
    data.release();  // libvirt owns it now and frees it with FreeCallbackData
    reg->callback_ids_.push_back(id);
  }
  auto close_data = std::make_unique<CallbackData>(CallbackData{std::move(sink), uri});
  if (virConnectRegisterCloseCallback(conn, OnClose, close_data.get(), nullptr) < 0) {
    return LibvirtError("virConnectRegisterCloseCallback", uri);
  }
  reg->close_data_ = std::move(close_data);
  return reg;
}

EventRegistration::~EventRegistration() {
  for (int id : callback_ids_) virConnectDomainEventDeregisterAny(conn_.get(), id);
  // Unregistering waits for a running close callback, so the data can go.
  if (close_data_) virConnectUnregisterCloseCallback(conn_.get(), OnClose);
  virResetLastError();  // a dead connection fails these; nothing to do about it
}

}  // namespace gitdisc
