#include "tests/support/fake_provider.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "providers/domain_xml.h"
#include "providers/vm_preparation.h"

namespace gitdisc {
namespace {

std::string DriveName(int i) {
  // hdc, hdd, hde, …: IDE CD-ROMs conventionally start at hdc.
  return std::string("hd") + static_cast<char>('c' + i);
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

}  // namespace

FakeProvider::FakeProvider(std::vector<std::string> hosts) : hosts_(std::move(hosts)) {}

FakeProvider::~FakeProvider() = default;

bool FakeProvider::IsRemoteUri(const std::string& uri) { return gitdisc::IsRemoteUri(uri); }

std::string FakeProvider::AddVm(const VmSpec& spec) {
  Vm vm;
  VmInfo& info = vm.info;
  info.name = spec.name;
  info.uuid = spec.uuid.empty() ? "uuid-" + spec.name : spec.uuid;
  info.host =
      spec.host.empty() ? (hosts_.empty() ? std::string("fake:///") : hosts_.front()) : spec.host;
  info.key = MakeVmKey(info.host, info.uuid);
  info.state = spec.state;
  info.labels = spec.labels;
  info.has_agent_channel = spec.agent_channel;
  info.hot_add_buses = spec.hot_add_buses;
  for (int i = 0; i < spec.cdroms; ++i) {
    info.cdroms.push_back({DriveName(i), spec.cdrom_bus, "", false});
  }
  vm.defined = info;
  vm.persistent = spec.persistent;
  vm.machine = spec.machine;
  std::string key = info.key;
  std::lock_guard<std::mutex> l(mu_);
  vms_[key] = std::move(vm);
  return key;
}

void FakeProvider::RemoveVm(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  vms_.erase(key);
}

void FakeProvider::SetPowerState(const std::string& key, VmInfo::PowerState state) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = vms_.find(key);
  if (it == vms_.end()) return;
  VmInfo& info = it->second.info;
  const VmInfo& defined = it->second.defined;
  bool starts = (info.state != VmInfo::kRunning && info.state != VmInfo::kPaused) &&
                (state == VmInfo::kRunning || state == VmInfo::kPaused);
  if (starts) {  // boots its definition: what was added there appears
    info.has_agent_channel = defined.has_agent_channel;
    for (const DriveInfo& d : defined.cdroms) {
      if (!info.FindDrive(d.target)) info.cdroms.push_back(d);
    }
  }
  info.state = state;
}

void FakeProvider::SetDriveSource(const std::string& key, const std::string& drive,
                                  const std::string& source) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = vms_.find(key);
  if (it == vms_.end()) return;
  for (DriveInfo& d : it->second.info.cdroms) {
    if (d.target == drive) d.source = source;
  }
}

void FakeProvider::SetTrayLocked(const std::string& key, const std::string& drive, bool locked) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = vms_.find(key);
  if (it == vms_.end()) return;
  if (locked) {
    it->second.locked_trays.insert(drive);
  } else {
    it->second.locked_trays.erase(drive);
  }
}

void FakeProvider::FailNext(Op op, const std::string& key, Status status, int times) {
  std::lock_guard<std::mutex> l(mu_);
  faults_.push_back({op, key, std::move(status), times});
}

void FakeProvider::SetAgentFactory(AgentFactory factory) {
  std::lock_guard<std::mutex> l(mu_);
  agent_factory_ = std::move(factory);
}

void FakeProvider::EmitEvent(const std::string& key, EventKind kind) {
  EventCallback cb;
  {
    std::lock_guard<std::mutex> l(mu_);
    cb = watch_;
  }
  if (cb) cb(key, kind);
}

std::vector<std::string> FakeProvider::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

void FakeProvider::ClearCalls() {
  std::lock_guard<std::mutex> l(mu_);
  calls_.clear();
}

void FakeProvider::set_record_calls(bool on) {
  std::lock_guard<std::mutex> l(mu_);
  record_ = on;
}

Result<VmInfo> FakeProvider::Peek(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = vms_.find(key);
  if (it == vms_.end()) return Status::NotFound("VM " + key + " not found");
  return it->second.info;
}

int FakeProvider::uploads(const std::string& host) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = uploaded_.find(host);
  return it == uploaded_.end() ? 0 : static_cast<int>(it->second.size());
}

int FakeProvider::forced_inserts() const {
  std::lock_guard<std::mutex> l(mu_);
  return forced_inserts_;
}

int FakeProvider::forced_ejects() const {
  std::lock_guard<std::mutex> l(mu_);
  return forced_ejects_;
}

int FakeProvider::open_channels() const {
  std::lock_guard<std::mutex> l(mu_);
  return open_channels_;
}

Status FakeProvider::RecordLocked(Op op, const std::string& key, std::string call) {
  if (record_) calls_.push_back(std::move(call));
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op || (!it->key.empty() && it->key != key)) continue;
    Status s = it->status;
    if (--it->times <= 0) faults_.erase(it);
    return s;
  }
  return Status::Ok();
}

Result<FakeProvider::Vm*> FakeProvider::FindLocked(const std::string& key) {
  auto it = vms_.find(key);
  if (it == vms_.end()) return Status::NotFound("VM " + key + " not found");
  return &it->second;
}

std::vector<std::string> FakeProvider::Hosts() const { return hosts_; }

Result<std::vector<VmInfo>> FakeProvider::ListVms() {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kListVms, "", "ListVms"));
  std::vector<VmInfo> out;
  out.reserve(vms_.size());
  for (const auto& [key, vm] : vms_) out.push_back(vm.info);
  return out;
}

Result<VmInfo> FakeProvider::GetVm(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kGetVm, key, "GetVm " + key));
  GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
  return vm->info;
}

Status FakeProvider::SetLabels(const std::string& key,
                               const std::map<std::string, std::string>& set,
                               const std::vector<std::string>& remove) {
  std::vector<std::string> pairs;
  for (const auto& [k, v] : set) pairs.push_back(k + "=" + v);
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(
      Op::kSetLabels, key, "SetLabels " + key + " set=" + Join(pairs) + " remove=" + Join(remove)));
  for (const auto& [k, v] : set) GITDISC_RETURN_IF_ERROR(ValidateLabel(k, v));
  GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
  for (const auto& k : remove) vm->info.labels.erase(k);
  for (const auto& [k, v] : set) vm->info.labels[k] = v;
  return Status::Ok();
}

Result<std::string> FakeProvider::PrepareImage(const std::string& host,
                                               const std::string& local_iso_path,
                                               const std::string& digest) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(
      Op::kPrepareImage, "", "PrepareImage " + host + " " + local_iso_path + " " + digest));
  bool known = false;
  for (const auto& h : hosts_) known = known || h == host;
  if (!known) return Status::NotFound("host " + host + " is not connected");
  if (!IsRemoteUri(host)) return local_iso_path;
  uploaded_[host].insert(digest);
  struct stat st;
  pool_[host][digest] = ::stat(local_iso_path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
  return "/var/lib/libvirt/gitdisc/" + digest + ".iso";
}

Status FakeProvider::InsertMedia(const std::string& key, const std::string& drive_target,
                                 const std::string& host_path) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(
      Op::kInsertMedia, key, "InsertMedia " + key + " " + drive_target + " " + host_path));
  GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
  if (vm->info.state != VmInfo::kRunning && vm->info.state != VmInfo::kPaused) {
    return Status::Conflict("InsertMedia " + vm->info.name + ": VM is not running");
  }
  for (DriveInfo& d : vm->info.cdroms) {
    if (d.target != drive_target) continue;
    if (d.source == host_path) return Status::Ok();
    if (!d.source.empty()) {
      return Status::Conflict(std::string(kDriveBusy) + ": " + vm->info.name + " drive " +
                              drive_target + " holds " + d.source);
    }
    if (vm->locked_trays.count(drive_target)) ++forced_inserts_;
    d.source = host_path;
    d.tray_open = false;
    return Status::Ok();
  }
  return Status::NotFound("InsertMedia " + vm->info.name + ": no CD-ROM drive " + drive_target);
}

Status FakeProvider::EjectMedia(const std::string& key, const std::string& drive_target,
                                const std::string& expected_source, bool force) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kEjectMedia, key,
                                       "EjectMedia " + key + " " + drive_target + " " +
                                           expected_source + " force=" + (force ? "1" : "0")));
  GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
  for (DriveInfo& d : vm->info.cdroms) {
    if (d.target != drive_target) continue;
    if (d.source.empty()) return Status::Ok();
    if (d.source != expected_source) {
      return Status::Conflict(std::string(kDriveBusy) + ": " + vm->info.name + " drive " +
                              drive_target + " holds " + d.source + ", not " + expected_source);
    }
    if (vm->locked_trays.count(drive_target)) {
      if (!force) {
        return Status::Timeout("EjectMedia " + vm->info.name + " " + drive_target +
                               ": timed out waiting to open tray (guest keeps it locked)");
      }
      ++forced_ejects_;
    }
    d.source.clear();
    return Status::Ok();
  }
  return Status::NotFound("EjectMedia " + vm->info.name + ": no CD-ROM drive " + drive_target);
}

Result<std::unique_ptr<ByteStream>> FakeProvider::OpenAgentChannel(const std::string& key) {
  AgentFactory factory;
  std::unique_ptr<ByteStream> host_end, guest_end;
  {
    std::lock_guard<std::mutex> l(mu_);
    GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kOpenAgentChannel, key, "OpenAgentChannel " + key));
    GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
    if (!vm->info.has_agent_channel) {
      return Status::NotFound("OpenAgentChannel " + vm->info.name + ": no channel " +
                              kAgentChannelName);
    }
    if (vm->info.state != VmInfo::kRunning && vm->info.state != VmInfo::kPaused) {
      return Status::Conflict("OpenAgentChannel " + vm->info.name + ": VM is not running");
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Status::FromErrno("socketpair", errno);
    }
    host_end = MakeFdStream(fds[0]);
    guest_end = MakeFdStream(fds[1]);
    ++open_channels_;
    factory = agent_factory_;
    if (!factory) silent_guests_.push_back(std::move(guest_end));
  }
  if (factory) factory(key, std::move(guest_end));
  return host_end;
}

Status FakeProvider::Watch(EventCallback callback) {
  std::lock_guard<std::mutex> l(mu_);
  if (record_) calls_.push_back("Watch");
  watch_ = std::move(callback);
  return Status::Ok();
}

namespace {

// The definition as vm_preparation.h reads it.
ParsedDomain AsParsed(const VmInfo& defined, const std::string& machine) {
  ParsedDomain d;
  d.name = defined.name;
  d.uuid = defined.uuid;
  d.machine = machine;
  d.cdroms = defined.cdroms;
  d.has_agent_channel = defined.has_agent_channel;
  for (const DriveInfo& c : defined.cdroms) d.disk_targets.push_back(c.target);
  return d;
}

// Applies one device element of DevicesToAdd to a definition.
void AddDevice(const std::string& device, VmInfo* defined) {
  auto parsed = ParseDomainXml("<domain><uuid>u</uuid><devices>" + device + "</devices></domain>");
  if (!parsed.ok()) return;
  defined->has_agent_channel |= parsed->has_agent_channel;
  for (const DriveInfo& c : parsed->cdroms) defined->cdroms.push_back(c);
}

}  // namespace

Result<PrepareVmResult> FakeProvider::PrepareVm(const std::string& key,
                                                const PrepareVmOptions& options) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kPrepareVm, key,
                                       "PrepareVm " + key + " bus=" + options.cdrom_bus +
                                           " dry_run=" + (options.dry_run ? "1" : "0")));
  GITDISC_ASSIGN_OR_RETURN(Vm * vm, FindLocked(key));
  if (!vm->persistent) {
    return Status::Conflict("PrepareVm " + vm->info.name +
                            ": a transient domain has no persistent definition to change");
  }
  PrepareVmResult out;
  out.running = vm->info.state == VmInfo::kRunning || vm->info.state == VmInfo::kPaused;
  GITDISC_ASSIGN_OR_RETURN(out.added,
                           DevicesToAdd(AsParsed(vm->defined, vm->machine), options.cdrom_bus));
  if (out.running) {
    GITDISC_ASSIGN_OR_RETURN(auto live_lacks,
                             DevicesToAdd(AsParsed(vm->info, vm->machine), options.cdrom_bus));
    out.restart_needed = !live_lacks.empty();
  }
  if (options.dry_run) return out;
  for (const std::string& device : out.added) AddDevice(device, &vm->defined);
  if (!out.running) {
    vm->info.has_agent_channel = vm->defined.has_agent_channel;
    vm->info.cdroms = vm->defined.cdroms;
  }
  return out;
}

Result<std::vector<PoolImage>> FakeProvider::ListPoolImages(const std::string& host) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(RecordLocked(Op::kListPoolImages, "", "ListPoolImages " + host));
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) {
    return Status::NotFound("host " + host + " is not connected");
  }
  std::vector<PoolImage> out;
  for (const auto& [digest, bytes] : pool_[host]) {
    out.push_back({digest, "/var/lib/libvirt/gitdisc/" + digest + ".iso", bytes, true});
  }
  return out;
}

Status FakeProvider::DeletePoolImage(const std::string& host, const std::string& digest) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_RETURN_IF_ERROR(
      RecordLocked(Op::kDeletePoolImage, "", "DeletePoolImage " + host + " " + digest));
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) {
    return Status::NotFound("host " + host + " is not connected");
  }
  const std::string path = "/var/lib/libvirt/gitdisc/" + digest + ".iso";
  for (const auto& [key, vm] : vms_) {
    if (vm.info.host != host) continue;
    for (const DriveInfo& d : vm.info.cdroms) {
      if (d.source == path) {
        return Status::Conflict(std::string(kDriveBusy) + ": " + vm.info.name + " has " + path +
                                " in drive " + d.target);
      }
    }
  }
  pool_[host].erase(digest);
  return Status::Ok();
}

}  // namespace gitdisc
