// libvirt's event loop and the provider's event callbacks (internal to
// providers/: includes libvirt).
//
// LibvirtEventLoop owns the thread that runs libvirt's default event loop.
// libvirt's event implementation is process-wide state: it is registered
// once per process (std::call_once, before any connection opens, as libvirt
// requires for events and keepalive on remote connections) and run by one
// thread at a time, so providers share one loop through Acquire(); the
// thread stops when the last holder releases it. Acquire also silences
// libvirt's default error printer (errors come back as Status instead).
//
// LibvirtProvider::EventSink is shared by the provider and every callback
// registration, so a callback running on the loop thread never touches a
// destroyed provider: the provider clears `callback` (under `mu`) before it
// goes away.
//
// EventRegistration is the set of callbacks (lifecycle, tray, disk change,
// metadata, connection closed) registered on one connection; destroying it
// deregisters them.
//
// Thread-safety: Acquire is safe from any thread. Callbacks run on the loop
// thread, one at a time. An EventRegistration is used under its host's mutex.
#ifndef GITDISC_PROVIDERS_LIBVIRT_EVENTS_H_
#define GITDISC_PROVIDERS_LIBVIRT_EVENTS_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "providers/libvirt_error.h"
#include "providers/libvirt_provider.h"

namespace gitdisc {

class LibvirtEventLoop {
 public:
  // The process's loop, started on first use.
  static Result<std::shared_ptr<LibvirtEventLoop>> Acquire();
  ~LibvirtEventLoop();
  LibvirtEventLoop(const LibvirtEventLoop&) = delete;
  LibvirtEventLoop& operator=(const LibvirtEventLoop&) = delete;

 private:
  LibvirtEventLoop() = default;
  Status Start();

  std::atomic<bool> stop_{false};
  int timer_ = -1;
  std::thread thread_;
};

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

class EventRegistration {
 public:
  // Registers every callback on `conn` (events of host `uri` go to `sink`).
  // On failure nothing stays registered.
  static Result<std::unique_ptr<EventRegistration>> Register(
      virConnectPtr conn, const std::string& uri, std::shared_ptr<LibvirtProvider::EventSink> sink);
  ~EventRegistration();
  EventRegistration(const EventRegistration&) = delete;
  EventRegistration& operator=(const EventRegistration&) = delete;

  // What a libvirt callback registration carries.
  struct CallbackData {
    std::shared_ptr<LibvirtProvider::EventSink> sink;
    std::string host;
  };

 private:
  EventRegistration() = default;

  ConnPtr conn_;  // our own reference, so deregistering always has a connection
  std::vector<int> callback_ids_;
  // Owned here, not handed to libvirt with a free callback: drivers without
  // close-callback support (test:///) accept the registration but never
  // call the free callback.
  std::unique_ptr<CallbackData> close_data_;
};

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_LIBVIRT_EVENTS_H_
