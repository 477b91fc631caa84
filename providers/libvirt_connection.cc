#include "providers/libvirt_connection.h"

namespace gitdisc {

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

namespace {

// Requires host.mu.
Status WatchHostLocked(LibvirtProvider::Host& host,
                       const std::shared_ptr<LibvirtProvider::EventSink>& sink) {
  if (!host.conn || host.events) return Status::Ok();
  GITDISC_ASSIGN_OR_RETURN(host.events,
                           EventRegistration::Register(host.conn.get(), host.uri, sink));
  return Status::Ok();
}

}  // namespace

Status WatchHost(LibvirtProvider::Host& host,
                 const std::shared_ptr<LibvirtProvider::EventSink>& sink) {
  std::lock_guard<std::mutex> l(host.mu);
  return WatchHostLocked(host, sink);
}

void CloseHost(LibvirtProvider::Host& host) {
  std::lock_guard<std::mutex> l(host.mu);
  host.events.reset();
  host.conn.reset();
}

Result<ConnPtr> AcquireConn(LibvirtProvider::Host& host,
                            const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                            std::atomic<int>& reconnects) {
  std::lock_guard<std::mutex> l(host.mu);
  if (!host.conn || virConnectIsAlive(host.conn.get()) != 1) {
    bool watching = sink->watching.load();
    host.events.reset();
    host.conn.reset();
    GITDISC_ASSIGN_OR_RETURN(host.conn, OpenConnection(host.uri, host.remote));
    reconnects.fetch_add(1);
    if (watching) GITDISC_RETURN_IF_ERROR(WatchHostLocked(host, sink));
  }
  virConnectRef(host.conn.get());
  return ConnPtr(host.conn.get());
}

LibvirtProvider::Host* FindHost(const std::vector<std::unique_ptr<LibvirtProvider::Host>>& hosts,
                                const std::string& uri) {
  for (const auto& h : hosts) {
    if (h->uri == uri) return h.get();
  }
  return nullptr;
}

Result<DomainRef> Lookup(const std::vector<std::unique_ptr<LibvirtProvider::Host>>& hosts,
                         const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                         std::atomic<int>& reconnects, const std::string& key) {
  std::string host_uri, uuid;
  GITDISC_RETURN_IF_ERROR(SplitVmKey(key, &host_uri, &uuid));
  LibvirtProvider::Host* host = FindHost(hosts, host_uri);
  if (!host) return Status::NotFound("VM " + key + ": host " + host_uri + " is not connected");
  DomainRef ref;
  GITDISC_ASSIGN_OR_RETURN(ref.conn, AcquireConn(*host, sink, reconnects));
  ref.dom.reset(virDomainLookupByUUIDString(ref.conn.get(), uuid.c_str()));
  if (!ref.dom) return LibvirtError("virDomainLookupByUUIDString", key);
  ref.name = DomainName(ref.dom.get());
  return ref;
}

std::string DomainName(virDomainPtr dom) {
  const char* n = virDomainGetName(dom);
  return n ? n : "?";
}

Result<std::string> GetXml(virDomainPtr dom, unsigned flags, const std::string& name) {
  CString xml(virDomainGetXMLDesc(dom, flags));
  if (!xml) return LibvirtError("virDomainGetXMLDesc", name);
  return std::string(xml.get());
}

Result<std::string> RunningDomainXml(const DomainRef& ref, const std::string& call) {
  int active = virDomainIsActive(ref.dom.get());
  if (active < 0) return LibvirtError("virDomainIsActive", ref.name);
  if (!active) return Status::Conflict(call + " " + ref.name + ": VM is not running");
  return GetXml(ref.dom.get(), 0, ref.name);
}

}  // namespace gitdisc
