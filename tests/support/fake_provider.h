// FakeProvider: an in-memory Provider for unit tests and benchmarks of the
// planner, executor and CLI. It keeps VMs, drives and labels in maps, obeys the
// same drive rules as LibvirtProvider (insert only into an empty drive, eject
// only the expected media, DriveBusy otherwise), records every call as a
// string tests can assert on, and injects scripted faults.
//
// Call log format (one string per call, in order):
//   "ListVms"
//   "GetVm <key>"
//   "SetLabels <key> set=a=1,b=2 remove=c,d"
//   "PrepareImage <host> <local_path> <digest>"
//   "InsertMedia <key> <drive> <path>"
//   "EjectMedia <key> <drive> <expected> force=0|1"
//   "OpenAgentChannel <key>"
//   "Watch"
//   "PrepareVm <key> bus=<bus> dry_run=0|1"
//   "ListPoolImages <host>"
//   "DeletePoolImage <host> <digest>"
// Keys are "<host>/<uuid>"; a VM added without a uuid gets "uuid-<name>", so
// keys read well in assertions: "fake:///a/uuid-web-1".
//
// The agent channel: OpenAgentChannel returns one end of a socketpair; the
// other ("guest") end goes to the AgentFactory the test set, which typically
// runs a fake agent on a thread. With no factory the guest end is kept open
// and silent, like a VM whose agent is not running (reads time out).
//
// Definitions: each VM has a persistent definition beside its running view.
// PrepareVm adds what vm_preparation.h decides to the definition; a VM that
// is not running shows its definition, and one that starts (SetPowerState
// from not running to running) takes the definition's channel and new
// drives. VmSpec::persistent false makes a transient VM (PrepareVm refuses).
//
// Hosts whose URI has a transport (qemu+ssh://, +tls, +tcp) or a host name
// count as remote: PrepareImage "uploads" once per (host, digest) and returns
// "/var/lib/libvirt/gitdisc/<digest>.iso"; local hosts get the local path back.
//
// Thread-safety: all methods are safe to call concurrently; the watch
// callback and the agent factory are called without the fake's lock held.
// Fast enough for 10,000 VMs (maps keyed by key; no per-call I/O).
#ifndef GITDISC_TESTS_SUPPORT_FAKE_PROVIDER_H_
#define GITDISC_TESTS_SUPPORT_FAKE_PROVIDER_H_

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "providers/provider.h"

namespace gitdisc {

class FakeProvider final : public Provider {
 public:
  enum class Op {
    kListVms,
    kGetVm,
    kSetLabels,
    kPrepareImage,
    kInsertMedia,
    kEjectMedia,
    kOpenAgentChannel,
    kPrepareVm,
    kListPoolImages,
    kDeletePoolImage,
  };
  // Receives the guest end of a freshly opened agent channel.
  using AgentFactory =
      std::function<void(const std::string& key, std::unique_ptr<ByteStream> guest_end)>;

  // Every member has a default, so designated initializers may name any
  // subset: AddVm({.name = "web-1", .labels = {{"role", "web"}}}).
  struct VmSpec {
    std::string name = {};
    std::map<std::string, std::string> labels = {};
    std::string host = {};  // "" = the first host
    std::string uuid = {};  // "" = "uuid-<name>"
    VmInfo::PowerState state = VmInfo::kRunning;
    int cdroms = 1;  // drives hdc, hdd, hde, … (bus cdrom_bus), all empty
    bool agent_channel = true;
    std::string cdrom_bus = "ide";
    std::vector<std::string> hot_add_buses = {};
    bool persistent = true;
    std::string machine = "pc-i440fx-7.2";
  };

  explicit FakeProvider(std::vector<std::string> hosts = {"qemu:///system"});
  ~FakeProvider() override;

  // --- the world -----------------------------------------------------------
  // Adds a VM and returns its key. Replaces a VM with the same key.
  std::string AddVm(const VmSpec& spec);
  // The VM vanishes (destroyed + undefined): later calls get kNotFound.
  void RemoveVm(const std::string& key);
  void SetPowerState(const std::string& key, VmInfo::PowerState state);
  // Puts media into a drive behind gitdisc's back (foreign media), or ""
  // to empty it.
  void SetDriveSource(const std::string& key, const std::string& drive, const std::string& source);
  // A guest-locked tray: a non-forced eject fails with kTimeout; insert into
  // an empty locked drive succeeds by forcing (recorded in forced_inserts()).
  void SetTrayLocked(const std::string& key, const std::string& drive, bool locked);
  // The next `times` calls of `op` (for `key`, or any key when "") fail with
  // `status` and change nothing. Faults queue in order.
  void FailNext(Op op, const std::string& key, Status status, int times = 1);
  void SetAgentFactory(AgentFactory factory);

  // Delivers an event to the Watch callback (synchronously, on this thread).
  // The fake emits no events by itself.
  void EmitEvent(const std::string& key, EventKind kind);

  // --- what happened ---------------------------------------------------------
  std::vector<std::string> calls() const;
  void ClearCalls();
  // Recording can be switched off for benchmarks.
  void set_record_calls(bool on);
  // A snapshot of a VM (kNotFound when absent); does not record a call.
  Result<VmInfo> Peek(const std::string& key) const;
  // Uploads done per remote host (PrepareImage of a new digest).
  int uploads(const std::string& host) const;
  int forced_inserts() const;
  int forced_ejects() const;
  int open_channels() const;

  // --- Provider -----------------------------------------------------------
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

  // Whether a URI names a remote host (same rule as LibvirtProvider).
  static bool IsRemoteUri(const std::string& uri);

 private:
  struct Fault {
    Op op;
    std::string key;
    Status status;
    int times;
  };
  struct Vm {
    VmInfo info;     // the running view (the definition while not running)
    VmInfo defined;  // the persistent definition: channel and drives
    bool persistent = true;
    std::string machine;
    std::set<std::string> locked_trays;
  };

  // Requires mu_. Records `call`, then returns the first matching fault (and
  // consumes one use of it), or Ok.
  Status RecordLocked(Op op, const std::string& key, std::string call);
  // Requires mu_.
  Result<Vm*> FindLocked(const std::string& key);

  const std::vector<std::string> hosts_;
  mutable std::mutex mu_;
  std::map<std::string, Vm> vms_;
  std::vector<Fault> faults_;
  std::vector<std::string> calls_;
  bool record_ = true;
  std::map<std::string, std::set<std::string>> uploaded_;        // host → digests ever uploaded
  std::map<std::string, std::map<std::string, uint64_t>> pool_;  // host → digest → bytes
  int forced_inserts_ = 0;
  int forced_ejects_ = 0;
  int open_channels_ = 0;
  AgentFactory agent_factory_;
  EventCallback watch_;
  // Guest ends of channels opened with no factory: kept open, silent.
  std::vector<std::unique_ptr<ByteStream>> silent_guests_;
};

}  // namespace gitdisc

#endif  // GITDISC_TESTS_SUPPORT_FAKE_PROVIDER_H_
