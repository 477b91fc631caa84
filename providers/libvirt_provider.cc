// The provider object: its hosts, its event sink and its counters. The
// Provider methods live with their concern: libvirt_inventory.cc (VMs and
// labels), libvirt_pool.cc (images onto hosts), libvirt_media.cc (insert and
// eject), libvirt_channel.cc (the agent channel); connections and events in
// libvirt_connection.cc and libvirt_events.cc.
#include "providers/libvirt_provider.h"

#include "providers/libvirt_connection.h"
#include "providers/libvirt_events.h"

namespace gitdisc {

LibvirtProvider::LibvirtProvider(std::shared_ptr<LibvirtEventLoop> loop, Options options)
    : loop_(std::move(loop)), options_(std::move(options)), sink_(std::make_shared<EventSink>()) {}

Result<std::unique_ptr<LibvirtProvider>> LibvirtProvider::Open(std::vector<std::string> uris,
                                                               Options options) {
  if (uris.empty()) return Status::Invalid("LibvirtProvider: no connection URI given");
  GITDISC_ASSIGN_OR_RETURN(auto loop, LibvirtEventLoop::Acquire());
  std::unique_ptr<LibvirtProvider> p(new LibvirtProvider(std::move(loop), std::move(options)));
  for (const std::string& uri : uris) {
    if (FindHost(p->hosts_, uri)) {
      return Status::Invalid("LibvirtProvider: URI given twice: " + uri);
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
  for (auto& h : hosts_) CloseHost(*h);
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

Status LibvirtProvider::Watch(EventCallback callback) {
  {
    std::lock_guard<std::mutex> l(sink_->mu);
    sink_->callback = std::move(callback);
  }
  // Registrations exist already: only the callback changed.
  if (sink_->watching.exchange(true)) return Status::Ok();
  for (auto& h : hosts_) {
    Status s = WatchHost(*h, sink_);
    if (!s.ok()) {
      sink_->watching.store(false);
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace gitdisc
