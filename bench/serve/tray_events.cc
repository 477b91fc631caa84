#include "bench/serve/tray_events.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace gitdisc::bench {

struct TrayEvents::State {
  virConnectPtr conn = nullptr;
  virDomainPtr dom = nullptr;
  int callback = -1;
  int timer = -1;
  std::atomic<bool> stop{false};
  std::thread loop;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<TimePoint> closes;
  std::vector<std::pair<TimePoint, bool>> all;  // time, closed
  int events = 0;
};

namespace {

int OnTray(virConnectPtr, virDomainPtr, const char*, int reason, void* opaque) {
  auto* s = static_cast<TrayEvents::State*>(opaque);
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(s->mu);
  ++s->events;
  if (reason == VIR_DOMAIN_EVENT_TRAY_CHANGE_CLOSE) s->closes.push_back(now);
  s->all.emplace_back(now, reason == VIR_DOMAIN_EVENT_TRAY_CHANGE_CLOSE);
  s->cv.notify_all();
  return 0;
}

Status LibvirtError(const std::string& what) {
  const virError* e = virGetLastError();
  return Status::Unavailable(what + ": " + (e && e->message ? e->message : "unknown error"));
}

}  // namespace

TrayEvents::TrayEvents(std::unique_ptr<State> s) : s_(std::move(s)) {}

Result<std::unique_ptr<TrayEvents>> TrayEvents::Start(const std::string& uri,
                                                      const std::string& domain_name) {
  if (virEventRegisterDefaultImpl() < 0) return LibvirtError("virEventRegisterDefaultImpl");
  auto s = std::make_unique<State>();
  s->conn = virConnectOpen(uri.c_str());
  if (!s->conn) return LibvirtError("virConnectOpen " + uri);
  s->dom = virDomainLookupByName(s->conn, domain_name.c_str());
  if (!s->dom) {
    virConnectClose(s->conn);
    return LibvirtError("virDomainLookupByName " + domain_name);
  }
  s->callback =
      virConnectDomainEventRegisterAny(s->conn, s->dom, VIR_DOMAIN_EVENT_ID_TRAY_CHANGE,
                                       VIR_DOMAIN_EVENT_CALLBACK(OnTray), s.get(), nullptr);
  if (s->callback < 0) {
    virDomainFree(s->dom);
    virConnectClose(s->conn);
    return LibvirtError("register tray events");
  }
  // A timer so the loop wakes up to notice `stop`.
  s->timer = virEventAddTimeout(
      100, [](int, void*) {}, nullptr, nullptr);
  State* raw = s.get();
  s->loop = std::thread([raw] {
    while (!raw->stop) virEventRunDefaultImpl();
  });
  return std::unique_ptr<TrayEvents>(new TrayEvents(std::move(s)));
}

TrayEvents::~TrayEvents() {
  s_->stop = true;
  if (s_->loop.joinable()) s_->loop.join();
  if (s_->timer >= 0) virEventRemoveTimeout(s_->timer);
  if (s_->callback >= 0) virConnectDomainEventDeregisterAny(s_->conn, s_->callback);
  if (s_->dom) virDomainFree(s_->dom);
  if (s_->conn) virConnectClose(s_->conn);
}

std::optional<TrayEvents::TimePoint> TrayEvents::FirstCloseAfter(TimePoint since,
                                                                 TimePoint deadline) {
  std::unique_lock<std::mutex> l(s_->mu);
  for (;;) {
    for (TimePoint t : s_->closes) {
      if (t >= since) return t;
    }
    if (s_->cv.wait_until(l, deadline) == std::cv_status::timeout) {
      for (TimePoint t : s_->closes) {
        if (t >= since) return t;
      }
      return std::nullopt;
    }
  }
}

std::string TrayEvents::Describe(TimePoint since) const {
  std::lock_guard<std::mutex> l(s_->mu);
  std::string out;
  for (const auto& [t, closed] : s_->all) {
    if (t < since) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s +%.1f ms", out.empty() ? "" : ", ",
                  closed ? "close" : "open",
                  std::chrono::duration<double, std::milli>(t - since).count());
    out += buf;
  }
  return out;
}

int TrayEvents::count() const {
  std::lock_guard<std::mutex> l(s_->mu);
  return s_->events;
}

}  // namespace gitdisc::bench
