#include "providers/vsphere_provider.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "guest/mailbox_stream.h"
#include "providers/domain_xml.h"
#include "providers/vsphere_mailbox.h"
#include "providers/vsphere_vim.h"
#include "providers/vsphere_watcher.h"

namespace gitdisc {

using vsphere::MoRef;
using vsphere::VimClient;
using vsphere::VimVm;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr char kImageDir[] = "gitdisc";

VmInfo::PowerState StateOf(const std::string& power) {
  if (power == "poweredOn") return VmInfo::kRunning;
  if (power == "poweredOff") return VmInfo::kShutoff;
  return VmInfo::kOther;  // suspended: memory saved to disk, not running
}

std::string BusOf(const std::string& target) {
  size_t end = target.find_first_of("0123456789");
  return target.substr(0, end);
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// "gitdisc/<digest>.iso" → digest, or "".
std::string DigestOfImage(const std::string& relative) {
  const std::string prefix = std::string(kImageDir) + "/";
  if (relative.rfind(prefix, 0) != 0 || relative.size() <= prefix.size() + 4) return "";
  std::string base = relative.substr(prefix.size());
  if (base.compare(base.size() - 4, 4, ".iso") != 0) return "";
  base.resize(base.size() - 4);
  return IsHex(base) ? base : "";
}

}  // namespace

struct VsphereProvider::State {
  VsphereTarget target;
  Options options;
  std::shared_ptr<VimClient> vim;
  MoRef datacenter;
  MoRef vm_folder;

  std::mutex mu;                           // guards the maps below
  std::map<std::string, MoRef> refs;       // instance uuid → VM
  std::map<std::string, std::string> images;  // digest → local image (PrepareImage)
  std::map<std::string, std::shared_ptr<std::mutex>> datastore_mu;  // one upload per datastore

  std::mutex watch_mu;
  std::unique_ptr<vsphere::VsphereWatcher> watcher;

  std::atomic<int> uploads{0}, reused{0}, reconfigures{0};

  SteadyClock::time_point TaskDeadline() const { return SteadyClock::now() + options.task_timeout; }

  VmInfo ToVmInfo(const VimVm& v) const {
    VmInfo info;
    info.uuid = v.instance_uuid;
    info.host = target.uri;
    info.key = MakeVmKey(target.uri, v.instance_uuid);
    info.name = v.name;
    info.state = StateOf(v.power_state);
    info.labels = vsphere::LabelsOf(v);
    for (const vsphere::VimCdrom& c : v.cdroms) {
      DriveInfo d;
      d.target = c.label;
      d.bus = BusOf(c.label);
      d.source = vsphere::CdromSource(c);
      info.cdroms.push_back(std::move(d));
    }
    // The mailbox needs nothing in the VM's definition: every VM has it
    // (whether an agent answers is another matter, as with libvirt).
    info.has_agent_channel = true;
    return info;
  }
};

VsphereProvider::VsphereProvider(std::unique_ptr<State> state) : s_(std::move(state)) {}

VsphereProvider::~VsphereProvider() {
  std::lock_guard<std::mutex> l(s_->watch_mu);
  s_->watcher.reset();
}

Result<std::unique_ptr<VsphereProvider>> VsphereProvider::Open(const std::string& uri,
                                                               Options options) {
  auto state = std::make_unique<State>();
  GITDISC_ASSIGN_OR_RETURN(state->target, ParseVsphereUri(uri));
  state->options = options;
  GITDISC_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(state->target.password_file));
  vsphere::SoapOptions so;
  so.host = state->target.host;
  so.port = state->target.port;
  so.insecure = state->target.insecure;
  so.ca_file = state->target.ca_file;
  so.connect_timeout = options.connect_timeout;
  so.call_timeout = options.call_timeout;
  auto vim = VimClient::Connect(so, state->target.user, password);
  if (!vim.ok()) return vim.status().Annotate(RedactUri(uri));
  state->vim = std::move(vim).value();
  GITDISC_ASSIGN_OR_RETURN(state->datacenter, state->vim->FindDatacenter(state->target.datacenter));
  GITDISC_ASSIGN_OR_RETURN(state->vm_folder, state->vim->VmFolder(state->datacenter));
  return std::unique_ptr<VsphereProvider>(new VsphereProvider(std::move(state)));
}

std::vector<std::string> VsphereProvider::Hosts() const { return {s_->target.uri}; }

VsphereProvider::Stats VsphereProvider::stats() const {
  Stats st;
  st.uploads = s_->uploads.load();
  st.reused_images = s_->reused.load();
  st.reconfigures = s_->reconfigures.load();
  return st;
}

Result<std::vector<VmInfo>> VsphereProvider::ListVms() {
  auto vms = s_->vim->ListVms(s_->vm_folder);
  if (!vms.ok()) {
    // A partial inventory would make VMs seem to vanish: the whole call fails.
    Status st = vms.status();
    return st.code() == Status::Code::kInternal ? Status::Unavailable(st.message()) : st;
  }
  std::vector<VmInfo> out;
  std::lock_guard<std::mutex> l(s_->mu);
  for (const VimVm& v : *vms) {
    if (v.is_template || v.instance_uuid.empty()) continue;
    s_->refs[v.instance_uuid] = v.ref;
    out.push_back(s_->ToVmInfo(v));
  }
  std::sort(out.begin(), out.end(), [](const VmInfo& a, const VmInfo& b) { return a.key < b.key; });
  return out;
}

Result<VimVm> VsphereProvider::ReadVm(const std::string& key, MoRef* ref) {
  std::string host, uuid;
  GITDISC_RETURN_IF_ERROR(SplitVmKey(key, &host, &uuid));
  if (host != s_->target.uri) {
    return Status::NotFound("VM " + key + ": host " + RedactUri(host) + " is not connected");
  }
  MoRef cached;
  {
    std::lock_guard<std::mutex> l(s_->mu);
    auto it = s_->refs.find(uuid);
    if (it != s_->refs.end()) cached = it->second;
  }
  if (!cached.empty()) {
    auto vm = s_->vim->GetVm(cached);
    if (vm.ok() && vm->instance_uuid == uuid) {
      *ref = cached;
      return vm;
    }
    if (!vm.ok() && !vm.status().IsNotFound()) return vm.status();
  }
  // Unknown, or the reference now names another VM (re-registered): look it up.
  auto found = s_->vim->FindVmByInstanceUuid(s_->datacenter, uuid);
  if (!found.ok()) {
    if (found.status().IsNotFound()) return Status::NotFound("VM " + key + " does not exist");
    return found.status();
  }
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, s_->vim->GetVm(*found));
  {
    std::lock_guard<std::mutex> l(s_->mu);
    s_->refs[uuid] = *found;
  }
  *ref = *found;
  return vm;
}

Result<VmInfo> VsphereProvider::GetVm(const std::string& key) {
  MoRef ref;
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, ReadVm(key, &ref));
  return s_->ToVmInfo(vm);
}

Status VsphereProvider::SetLabels(const std::string& key,
                                  const std::map<std::string, std::string>& set,
                                  const std::vector<std::string>& remove) {
  for (const auto& [k, v] : set) {
    GITDISC_RETURN_IF_ERROR(ValidateLabel(k, v));
    if (v.empty()) {
      return Status::Invalid("label " + k +
                             ": vSphere cannot hold an empty value (extraConfig removes a key "
                             "set to \"\")");
    }
  }
  for (const auto& k : remove) {
    if (k.empty()) return Status::Invalid("label key to remove is empty");
  }
  MoRef ref;
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, ReadVm(key, &ref));
  std::map<std::string, std::string> current = vsphere::LabelsOf(vm);
  vsphere::VmEdit edit;
  for (const auto& k : remove) {
    if (current.count(k) && !set.count(k)) edit.extra_config.emplace_back(vsphere::kLabelKeyPrefix + k, "");
  }
  for (const auto& [k, v] : set) {
    auto it = current.find(k);
    if (it == current.end() || it->second != v) {
      edit.extra_config.emplace_back(vsphere::kLabelKeyPrefix + k, v);
    }
  }
  if (edit.extra_config.empty()) return Status::Ok();
  s_->reconfigures.fetch_add(1);
  return s_->vim->Reconfigure(ref, edit, vm.name + " labels", s_->TaskDeadline());
}

Result<std::string> VsphereProvider::PrepareImage(const std::string& host,
                                                  const std::string& local_iso_path,
                                                  const std::string& digest) {
  if (host != s_->target.uri) {
    return Status::NotFound("PrepareImage: host " + RedactUri(host) + " is not connected");
  }
  if (!IsHex(digest)) {
    return Status::Invalid("PrepareImage: digest must be lowercase hex, got '" + digest + "'");
  }
  struct stat st;
  if (::stat(local_iso_path.c_str(), &st) != 0) {
    return Status::FromErrno("PrepareImage: stat " + local_iso_path, errno);
  }
  if (!S_ISREG(st.st_mode)) return Status::Invalid("PrepareImage: not a regular file: " + local_iso_path);
  std::lock_guard<std::mutex> l(s_->mu);
  s_->images[digest] = local_iso_path;
  return std::string(kImageDir) + "/" + digest + ".iso";
}

Status VsphereProvider::EnsureImage(const std::string& ds, const std::string& digest) {
  std::string local;
  std::shared_ptr<std::mutex> ds_mu;
  {
    std::lock_guard<std::mutex> l(s_->mu);
    auto it = s_->images.find(digest);
    if (it != s_->images.end()) local = it->second;
    auto& m = s_->datastore_mu[ds];
    if (!m) m = std::make_shared<std::mutex>();
    ds_mu = m;
  }
  std::lock_guard<std::mutex> upload_lock(*ds_mu);
  const std::string dc_path = s_->target.datacenter;
  const std::string image = std::string(kImageDir) + "/" + digest + ".iso";
  const std::string marker = image + ".ok";
  GITDISC_ASSIGN_OR_RETURN(int64_t have, s_->vim->FileSize(dc_path, ds, image));
  GITDISC_ASSIGN_OR_RETURN(int64_t have_marker, s_->vim->FileSize(dc_path, ds, marker));
  struct stat st;
  if (local.empty() || ::stat(local.c_str(), &st) != 0) {
    if (have >= 0 && have_marker >= 0) return Status::Ok();  // uploaded earlier, by anyone
    return Status::NotFound("image " + digest + " is neither on datastore " + ds +
                            " nor prepared here (PrepareImage first)");
  }
  if (have == static_cast<int64_t>(st.st_size) && have_marker >= 0) {
    s_->reused.fetch_add(1);
    return Status::Ok();
  }
  // Missing, or a half upload (no marker, another size): upload under a
  // temporary name and move it into place, so the image name never holds a
  // partial file, then write the marker.
  GITDISC_RETURN_IF_ERROR(s_->vim->MakeDirectory(s_->datacenter, "[" + ds + "] " + kImageDir));
  const std::string part = std::string(kImageDir) + "/." + digest + ".iso." +
                           guest::NewMailboxSession() + ".part";
  Status up = s_->vim->Upload(dc_path, ds, part, local);
  if (!up.ok()) {
    (void)s_->vim->DeleteDatastoreFile(s_->datacenter, "[" + ds + "] " + part, s_->TaskDeadline());
    return up;
  }
  GITDISC_RETURN_IF_ERROR(s_->vim->MoveDatastoreFile(s_->datacenter, "[" + ds + "] " + part,
                                                     "[" + ds + "] " + image, s_->TaskDeadline()));
  GITDISC_RETURN_IF_ERROR(
      s_->vim->UploadData(dc_path, ds, marker, std::to_string(st.st_size) + "\n"));
  s_->uploads.fetch_add(1);
  return Status::Ok();
}

Status VsphereProvider::InsertMedia(const std::string& key, const std::string& drive_target,
                                    const std::string& host_path) {
  if (host_path.empty()) return Status::Invalid("InsertMedia: empty image path");
  MoRef ref;
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, ReadVm(key, &ref));
  if (vm.power_state != "poweredOn") {
    return Status::Conflict("InsertMedia " + vm.name + ": VM is not running");
  }
  const vsphere::VimCdrom* drive = nullptr;
  for (const auto& c : vm.cdroms) {
    if (c.label == drive_target) drive = &c;
  }
  if (!drive) return Status::NotFound("InsertMedia " + vm.name + ": no CD-ROM drive " + drive_target);
  // "gitdisc/<digest>.iso" from PrepareImage goes onto the VM's own datastore.
  std::string ds = vsphere::DatastoreOfPath(host_path);
  if (ds.empty()) ds = vsphere::DatastoreOfPath(vm.vmx_path);
  if (ds.empty()) return Status::Invalid("InsertMedia " + vm.name + ": the VM has no datastore");
  const std::string relative = vsphere::RelativeOfPath(host_path);
  const std::string full = "[" + ds + "] " + relative;
  const std::string source = vsphere::CdromSource(*drive);
  if (source == full) return Status::Ok();
  if (!source.empty()) {
    return Status::Conflict(std::string(kDriveBusy) + ": " + vm.name + " drive " + drive_target +
                            " holds " + source);
  }
  const std::string digest = DigestOfImage(relative);
  if (!digest.empty()) GITDISC_RETURN_IF_ERROR(EnsureImage(ds, digest));
  vsphere::VmEdit edit;
  edit.cdrom = vsphere::VmEdit::Cdrom{*drive, full};
  s_->reconfigures.fetch_add(1);
  return s_->vim->Reconfigure(ref, edit, vm.name + " insert " + drive_target, s_->TaskDeadline());
}

Status VsphereProvider::EjectMedia(const std::string& key, const std::string& drive_target,
                                   const std::string& expected_source, bool /*force*/) {
  MoRef ref;
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, ReadVm(key, &ref));
  const vsphere::VimCdrom* drive = nullptr;
  for (const auto& c : vm.cdroms) {
    if (c.label == drive_target) drive = &c;
  }
  if (!drive) return Status::NotFound("EjectMedia " + vm.name + ": no CD-ROM drive " + drive_target);
  const std::string source = vsphere::CdromSource(*drive);
  if (source.empty()) return Status::Ok();
  if (source != expected_source) {
    return Status::Conflict(std::string(kDriveBusy) + ": " + vm.name + " drive " + drive_target +
                            " holds " + source + ", not " + expected_source);
  }
  // A guest that locked the tray makes vSphere ask a question and the task
  // waits for an answer; the deadline turns that into kTimeout (force cannot
  // help here: answering the question is not implemented).
  vsphere::VmEdit edit;
  edit.cdrom = vsphere::VmEdit::Cdrom{*drive, ""};
  s_->reconfigures.fetch_add(1);
  return s_->vim->Reconfigure(ref, edit, vm.name + " eject " + drive_target, s_->TaskDeadline());
}

Result<std::unique_ptr<ByteStream>> VsphereProvider::OpenAgentChannel(const std::string& key) {
  MoRef ref;
  GITDISC_ASSIGN_OR_RETURN(VimVm vm, ReadVm(key, &ref));
  if (vm.power_state != "poweredOn") {
    return Status::Conflict("OpenAgentChannel " + vm.name + ": VM is not running");
  }
  guest::MailboxOptions mo;
  mo.min_poll = s_->options.mailbox_min_poll;
  mo.max_poll = s_->options.mailbox_max_poll;
  auto slots = vsphere::MakeExtraConfigSlots(s_->vim, ref, vm.name + " mailbox",
                                             guest::kMailboxReplyKey, guest::kMailboxRequestKey,
                                             s_->options.task_timeout);
  return std::unique_ptr<ByteStream>(
      guest::MailboxStream::OpenHost(std::move(slots), guest::NewMailboxSession(), mo));
}

Status VsphereProvider::Watch(EventCallback callback) {
  std::lock_guard<std::mutex> l(s_->watch_mu);
  if (s_->watcher) {
    s_->watcher->SetCallback(std::move(callback));
    return Status::Ok();
  }
  if (!callback) return Status::Ok();
  s_->watcher = std::make_unique<vsphere::VsphereWatcher>(
      s_->vim, s_->vm_folder, s_->target.uri, s_->options.watch_wait, std::move(callback));
  return Status::Ok();
}

}  // namespace gitdisc
