// LibvirtProvider: the Provider over libvirt, one connection per URI
// (several hosts at once; VM keys are "<uri>/<uuid>").
//
// Events and keepalive need libvirt's event loop: the provider holds a
// process-wide LibvirtEventLoop (virEventRegisterDefaultImpl runs once per
// process, as libvirt requires; one thread we own runs
// virEventRunDefaultImpl and stops when the last provider goes away). The
// loop is registered before any connection opens, as libvirt requires for
// events on remote connections. The provider also silences libvirt's default
// error printer (errors come back as Status instead).
//
// Delivery (PrepareImage): a local connection (qemu:///system,
// qemu+unix://…) inserts the image by its path: the file is made
// world-readable (0644) and every directory above it must be searchable by
// others (o+x), because QEMU runs as libvirt-qemu, not root; otherwise
// kPermission names the directory to fix. A remote connection uploads the
// image once into the storage pool `gitdisc` (a dir pool, created with target
// Options::pool_target_dir if missing, started and set to autostart) as
// volume `<digest>.iso` (mode 0644), followed by a marker volume
// `<digest>.iso.ok` that says the upload finished; a volume without its
// marker (an interrupted upload) or of another size is deleted and uploaded
// again. The returned path is the volume's path on that host.
//
// Media: live changes only (VIR_DOMAIN_AFFECT_LIVE); a disc never lands in
// the persistent definition, so a VM restarted from its definition comes up
// with an empty drive. Insert retries with VIR_DOMAIN_DEVICE_MODIFY_FORCE when
// libvirt reports a tray that would not open (safe: the drive is empty).
// Eject forces only when asked. libvirt can be left believing a tray is open
// when the guest closed it (SeaBIOS does while probing drives at boot); every
// later change would fail with "Tray … is not open". The provider repairs
// that by opening the tray through QEMU's monitor (blockdev-open-tray; force
// only where forcing is allowed) and retrying; stats().tray_repairs counts it.
//
// Channel: virDomainOpenChannel with VIR_DOMAIN_CHANNEL_FORCE, because the
// channel is exclusive and a controller that crashed (or a stuck earlier
// stream of ours) may still hold it; there is one controller per VM by
// design, so taking it over is always right. The stream is non-blocking;
// reads poll with short sleeps so they honour their timeout; writes complete
// fully or fail after 30 s without progress. The stream keeps its connection
// alive by itself and may outlive the provider.
//
// Preparation (PrepareVm): missing devices are added to the persistent
// definition with virDomainAttachDeviceFlags(VIR_DOMAIN_AFFECT_CONFIG);
// the running instance is never changed.
//
// Pool images (ListPoolImages, DeletePoolImage): the `<digest>.iso` volumes
// of the `gitdisc` pool on a remote host; deleting one is refused while any
// domain on that host has it in a drive.
//
// Connections that die (libvirtd restarted, network) are reopened on the
// next call, and event callbacks are registered again; callers see
// kUnavailable for the call that found the connection dead.
//
// Thread-safety: all methods may be called concurrently from several
// threads (libvirt connections are thread-safe; a mutex per host guards
// reconnects, another serialises uploads per host). Watch callbacks run on
// the event-loop thread, one at a time; they must not block.
#ifndef GITDISC_PROVIDERS_LIBVIRT_PROVIDER_H_
#define GITDISC_PROVIDERS_LIBVIRT_PROVIDER_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "providers/provider.h"

namespace gitdisc {

class LibvirtEventLoop;

class LibvirtProvider final : public Provider {
 public:
  struct Options {
    // Target directory of the `gitdisc` pool when gitdisc has to create it
    // on a remote host.
    std::string pool_target_dir = "/var/lib/libvirt/gitdisc";
  };

  struct Stats {
    int uploads = 0;         // images uploaded to a remote pool
    int reused_volumes = 0;  // PrepareImage calls answered by an existing volume
    int forced_inserts = 0;  // inserts that needed VIR_DOMAIN_DEVICE_MODIFY_FORCE
    int forced_ejects = 0;
    int reconnects = 0;
    int tray_repairs = 0;  // stale tray states repaired (libvirt_media.cc UpdateDevice)
  };

  // Connects to every URI (at least one). kUnavailable names the URI that
  // failed and libvirt's reason.
  static Result<std::unique_ptr<LibvirtProvider>> Open(std::vector<std::string> uris,
                                                       Options options);
  static Result<std::unique_ptr<LibvirtProvider>> Open(std::vector<std::string> uris) {
    return Open(std::move(uris), Options());
  }
  ~LibvirtProvider() override;
  LibvirtProvider(const LibvirtProvider&) = delete;
  LibvirtProvider& operator=(const LibvirtProvider&) = delete;

  std::vector<std::string> Hosts() const override;
  Result<std::vector<VmInfo>> ListVms() override;
  Result<VmInfo> GetVm(const std::string& key) override;
  Status SetLabels(const std::string& key, const std::map<std::string, std::string>& set,
                   const std::vector<std::string>& remove) override;
  Result<std::string> PrepareImage(const std::string& host, const std::string& local_iso_path,
                                   const std::string& digest) override;
  Status InsertMedia(const std::string& key, const std::string& drive_target,
                     const std::string& host_path) override;
  Status EjectMedia(const std::string& key, const std::string& drive_target,
                    const std::string& expected_source, bool force) override;
  Result<std::unique_ptr<ByteStream>> OpenAgentChannel(const std::string& key) override;
  Status Watch(EventCallback callback) override;
  Result<PrepareVmResult> PrepareVm(const std::string& key,
                                    const PrepareVmOptions& options) override;
  Result<std::vector<PoolImage>> ListPoolImages(const std::string& host) override;
  Status DeletePoolImage(const std::string& host, const std::string& digest) override;

  Stats stats() const;

  // Internal state: Host in libvirt_connection.h, EventSink in libvirt_events.h.
  struct Host;
  struct EventSink;

 private:
  LibvirtProvider(std::shared_ptr<LibvirtEventLoop> loop, Options options);

  std::shared_ptr<LibvirtEventLoop> loop_;
  Options options_;
  std::shared_ptr<EventSink> sink_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::atomic<int> uploads_{0}, reused_{0}, forced_inserts_{0}, forced_ejects_{0}, reconnects_{0},
      tray_repairs_{0};
};

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_LIBVIRT_PROVIDER_H_
