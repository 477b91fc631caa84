// Provider: what gitdisc needs from a hypervisor — inventory (VMs, labels,
// power state, CD-ROM drives), media (deliver an image to a host, insert it
// into an empty drive, eject it), the channel to the in-guest agent, and
// change events. The libvirt implementation is LibvirtProvider
// (providers/libvirt_provider.h); unit tests use FakeProvider
// (tests/support/fake_provider.h).
//
// VM keys are stable strings "<connection uri>/<uuid>" (the URI exactly as
// given to the provider, e.g. "qemu:///system/6f1c…"), so one provider can
// serve several hosts and a key says which host a VM lives on.
//
// Drive rules (DESIGN.md §7): InsertMedia only fills an EMPTY drive (else
// kConflict "DriveBusy"); EjectMedia only removes the image the caller names
// (anything else → kConflict "DriveBusy": gitdisc never pulls foreign media).
//
// Errors: kNotFound when the VM (or drive) does not exist (also when it
// vanished mid-operation), kConflict for drive rules and "VM not running",
// kUnavailable for a lost connection (retry), kTimeout for a tray that would
// not open, kInternal for anything else libvirt reports. Messages carry the
// libvirt call, the VM and libvirt's own message.
//
// Thread-safety: implementations are safe for concurrent use by several
// threads. Watch callbacks run on the provider's event thread: they must be
// quick and only enqueue the key.
#ifndef GITDISC_PROVIDERS_PROVIDER_H_
#define GITDISC_PROVIDERS_PROVIDER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_stream.h"
#include "base/status.h"

namespace gitdisc {

// The virtio-serial port the agent listens on (DESIGN.md §6).
inline constexpr char kAgentChannelName[] = "org.gitdisc.agent.0";
// The namespace of VM labels in the domain's <metadata> (DESIGN.md §3).
inline constexpr char kLabelsNamespace[] = "urn:gitdisc:labels:1";
// Messages of drive-rule conflicts start with this word.
inline constexpr char kDriveBusy[] = "DriveBusy";

// Whether a status is the "drive holds media that is not ours / not empty" conflict.
bool IsDriveBusy(const Status& status);

// One CD-ROM drive of a VM.
struct DriveInfo {
  std::string target;  // "hdc"
  std::string bus;     // "ide", "sata", "scsi"
  std::string source;  // the inserted image's path on the host; "" = empty
  bool tray_open = false;

  bool operator==(const DriveInfo&) const = default;
};

struct VmInfo {
  enum PowerState { kRunning, kPaused, kShutoff, kOther };

  std::string key;   // "<host>/<uuid>"
  std::string name;  // libvirt domain name
  std::string uuid;
  std::string host;  // the connection URI
  PowerState state = kOther;
  std::map<std::string, std::string> labels;
  std::vector<DriveInfo> cdroms;
  // The domain defines the org.gitdisc.agent.0 channel (says nothing about
  // whether an agent answers on it).
  bool has_agent_channel = false;
  // Buses a read-only disk could be hot-added on (the hot add delivery
  // method, DESIGN.md §5): "virtio-scsi" (a virtio-scsi controller),
  // "virtio-blk" (a PCI slot that takes hot-plugged devices). Empty: none.
  std::vector<std::string> hot_add_buses;

  // The drive with this target, or nullptr.
  const DriveInfo* FindDrive(std::string_view target) const;
};

const char* PowerStateName(VmInfo::PowerState state);

// What an event says happened; callbacks re-read the VM (level-based), so
// this is only a hint for logs and metrics.
enum class EventKind {
  kLifecycle,    // started, stopped, paused, resumed, defined, undefined, …
  kTrayChanged,  // a CD-ROM tray opened or closed
  kDiskChanged,  // a drive's media changed
  kMetadata,     // <metadata> (labels) changed
  kHostLost,     // the connection to a host closed; the key is the host URI
};

const char* EventKindName(EventKind kind);

// Whether a connection URI names a remote host: a transport other than unix
// (qemu+ssh://, qemu+tls://, qemu+tcp://, …) or a host name (qemu://h/system).
// Remote hosts get images by upload into the `gitdisc` pool; local ones by path.
bool IsRemoteUri(std::string_view uri);

// "<host>/<uuid>" and its inverse (the uuid never contains '/').
std::string MakeVmKey(std::string_view host, std::string_view uuid);
// Splits a key; kInvalid when it has no '/' or an empty part.
Status SplitVmKey(std::string_view key, std::string* host, std::string* uuid);

// What `gitdisc vm prepare` asks for (PrepareVm).
struct PrepareVmOptions {
  // Bus of a CD-ROM drive to add: "sata", "ide" or "scsi"; "" picks the bus
  // of the VM's CD-ROM drives with a tray, else "sata" on q35 machines and
  // "ide" on others (i440fx).
  std::string cdrom_bus = {};
  // Say what would be added, change nothing.
  bool dry_run = false;
};

// What PrepareVm added (or, dry, would add) to the persistent definition.
struct PrepareVmResult {
  // One device element (libvirt XML) per addition, in the order added: the
  // agent channel, then a CD-ROM drive. Empty: nothing was missing.
  std::vector<std::string> added;
  bool running = false;
  // The running VM still lacks something its definition now has: it takes
  // effect when the VM is shut down and started again (a reboot from
  // inside the guest keeps the running devices).
  bool restart_needed = false;
};

// One bundle image in a remote host's `gitdisc` storage pool (DESIGN.md §5).
struct PoolImage {
  std::string digest;  // the bundle digest, from the volume name <digest>.iso
  std::string path;    // the volume's path on that host
  uint64_t bytes = 0;
  bool complete = false;  // its upload finished (the <digest>.iso.ok marker exists)
  bool operator==(const PoolImage&) const = default;
};

class Provider {
 public:
  using EventCallback = std::function<void(const std::string& key, EventKind kind)>;

  virtual ~Provider() = default;

  // The connection URIs this provider serves, in the order given.
  virtual std::vector<std::string> Hosts() const = 0;

  // Every VM on every host (running or not), sorted by key. One host failing
  // fails the whole call (kUnavailable): a partial inventory would make a
  // reconciler believe VMs vanished.
  virtual Result<std::vector<VmInfo>> ListVms() = 0;
  // One VM, freshly read. kNotFound when it does not exist (any more).
  virtual Result<VmInfo> GetVm(const std::string& key) = 0;

  // Sets `set` and removes `remove` (missing keys are fine) in one
  // read-modify-write of the VM's labels. Applies to the running instance and
  // to the persistent definition, whichever exist. kInvalid for an empty key.
  virtual Status SetLabels(const std::string& key, const std::map<std::string, std::string>& set,
                           const std::vector<std::string>& remove) = 0;

  // Makes the local image `local_iso_path` (content digest `digest`, hex)
  // available to QEMU on `host` and returns the path that host's QEMU sees.
  // Local connection: the path itself (after checking/making it readable by
  // the QEMU user). Remote connection: uploaded once into the storage pool
  // `gitdisc` as volume `<digest>.iso`; a volume of that name and size is
  // reused. Safe to call again; idempotent.
  virtual Result<std::string> PrepareImage(const std::string& host,
                                           const std::string& local_iso_path,
                                           const std::string& digest) = 0;

  // Inserts `host_path` into the EMPTY drive `drive_target` of a running VM
  // (live change). kConflict DriveBusy when the drive holds anything,
  // kNotFound for an unknown VM or drive, kConflict when the VM is not
  // running. A tray the guest keeps locked is forced (the drive is empty, so
  // nothing is pulled from anyone). Inserting the same path that is already
  // in the drive succeeds (idempotent).
  virtual Status InsertMedia(const std::string& key, const std::string& drive_target,
                             const std::string& host_path) = 0;

  // Ejects `expected_source` from `drive_target`. An already-empty drive is
  // success (idempotent). A drive holding something else → kConflict
  // DriveBusy, nothing ejected. Without `force`, a guest-locked tray fails
  // with kTimeout; with `force` the tray is forced open — only for callers
  // who know no payload still reads the disc.
  virtual Status EjectMedia(const std::string& key, const std::string& drive_target,
                            const std::string& expected_source, bool force) = 0;

  // Opens the VM's org.gitdisc.agent.0 channel. The stream is exclusive:
  // opening it takes it over from any earlier holder (e.g. a crashed
  // controller). kNotFound when the VM or channel does not exist, kConflict
  // when the VM is not running. The stream stays valid after the provider
  // is destroyed only as long as documented by the implementation.
  virtual Result<std::unique_ptr<ByteStream>> OpenAgentChannel(const std::string& key) = 0;

  // Starts delivering events to `callback` (replacing an earlier one) until
  // the provider is destroyed. Callbacks carry only the key.
  virtual Status Watch(EventCallback callback) = 0;

  // Adds what the VM lacks to be managed (providers/manageability.h) to its
  // PERSISTENT definition: the agent channel, and a CD-ROM drive on a bus
  // with a tray when the definition has no empty one. The running instance
  // is never changed (restart_needed says when it lacks something).
  // Idempotent: a prepared VM gets an empty `added`. kConflict for a
  // transient VM (no definition) or when the bus has no free slot, kInvalid
  // for an unknown bus. Providers that cannot edit definitions return
  // kInvalid.
  virtual Result<PrepareVmResult> PrepareVm(const std::string& key,
                                            const PrepareVmOptions& options);

  // The images in the `gitdisc` pool of `host`, sorted by digest; empty for
  // a local host (no pool: images are used from the cache by path) or a
  // host whose pool does not exist yet. Volumes not named <digest>.iso are
  // not listed.
  virtual Result<std::vector<PoolImage>> ListPoolImages(const std::string& host);

  // Deletes <digest>.iso and its marker from the pool of `host`. Refuses
  // with kConflict DriveBusy while a VM on that host has the image in a
  // drive. An absent image is success (idempotent). kNotFound for a host
  // that is not connected.
  virtual Status DeletePoolImage(const std::string& host, const std::string& digest);
};

}  // namespace gitdisc

#endif  // GITDISC_PROVIDERS_PROVIDER_H_
