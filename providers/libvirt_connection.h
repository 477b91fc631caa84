// The libvirt provider's connections (internal to providers/: includes
// libvirt): one Host per URI, its connection reopened when it died, and the
// lookup of a VM key to its domain on the right host.
//
// A connection that died (libvirtd restarted, network) is reopened by the
// next AcquireConn; the event callbacks are registered again when the
// provider watches. The call that found it dead still sees kUnavailable
// when its own libvirt call fails.
//
// Thread-safety: Host::mu guards conn and events; every function here takes
// it as needed and may be called from any thread.
#ifndef GITDISC_PROVIDERS_LIBVIRT_CONNECTION_H_
#define GITDISC_PROVIDERS_LIBVIRT_CONNECTION_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "providers/libvirt_error.h"
#include "providers/libvirt_events.h"
#include "providers/libvirt_provider.h"

namespace gitdisc {

struct LibvirtProvider::Host {
  std::string uri;
  bool remote = false;
  std::mutex mu;  // guards conn and events
  ConnPtr conn;
  std::unique_ptr<EventRegistration> events;  // while watching
  std::mutex upload_mu;                       // one upload per host at a time
};

// Opens `uri` (kUnavailable with libvirt's reason when it fails); remote
// connections get a keepalive, so a dead peer is noticed within ~20 s.
Result<ConnPtr> OpenConnection(const std::string& uri, bool remote);

// A new reference to the host's connection, reopening it if it died (and
// registering events again when `sink` is watching).
Result<ConnPtr> AcquireConn(LibvirtProvider::Host& host,
                            const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                            std::atomic<int>& reconnects);

// Registers the host's event callbacks (if it has a connection and none are
// registered yet); on failure none stay registered.
Status WatchHost(LibvirtProvider::Host& host,
                 const std::shared_ptr<LibvirtProvider::EventSink>& sink);
// Deregisters the host's callbacks and closes its connection.
void CloseHost(LibvirtProvider::Host& host);

// A domain and the connection it was found on.
struct DomainRef {
  ConnPtr conn;
  DomainPtr dom;
  std::string name;
};

// Finds the host of `key` and looks the domain up by uuid: kInvalid for a
// malformed key, kNotFound for an unknown host or domain.
Result<DomainRef> Lookup(const std::vector<std::unique_ptr<LibvirtProvider::Host>>& hosts,
                         const std::shared_ptr<LibvirtProvider::EventSink>& sink,
                         std::atomic<int>& reconnects, const std::string& key);

// The connected host of `uri`, or nullptr.
LibvirtProvider::Host* FindHost(const std::vector<std::unique_ptr<LibvirtProvider::Host>>& hosts,
                                const std::string& uri);

std::string DomainName(virDomainPtr dom);
// The domain's XML (flags: 0 = live, VIR_DOMAIN_XML_INACTIVE = persistent).
Result<std::string> GetXml(virDomainPtr dom, unsigned flags, const std::string& name);
// The live XML of a running domain; kConflict "`call` NAME: VM is not
// running" when it is not.
Result<std::string> RunningDomainXml(const DomainRef& ref, const std::string& call);

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_LIBVIRT_CONNECTION_H_
