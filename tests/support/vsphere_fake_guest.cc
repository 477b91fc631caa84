#include "tests/support/vsphere_fake_guest.h"

#include <cstdio>

#include "base/file_util.h"
#include "guest/agent.h"
#include "guest/guestinfo_transport.h"
#include "providers/vsphere_uri.h"
#include "providers/vsphere_vim.h"

namespace gitdisc::test_support {
namespace {

using std::chrono::milliseconds;

// guestinfo as a guest sees it, read and set through the simulator's API.
class SimulatorGuestinfo final : public guest::GuestinfoStore {
 public:
  SimulatorGuestinfo(std::shared_ptr<vsphere::VimClient> vim, vsphere::MoRef vm,
                     const std::atomic<bool>* stop)
      : vim_(std::move(vim)), vm_(std::move(vm)), stop_(stop) {}

  Result<std::string> Get(const std::string& key) override {
    if (stop_->load()) return Status::Unavailable("fake guest stopping");
    GITDISC_ASSIGN_OR_RETURN(vsphere::VimVm v, vim_->GetVmProperties(vm_, {"config.extraConfig"}));
    return v.Extra(key).value_or("");
  }
  Status Set(const std::string& key, const std::string& value) override {
    if (stop_->load()) return Status::Unavailable("fake guest stopping");
    vsphere::VmEdit edit;
    edit.extra_config.emplace_back(key, value);
    return vim_->Reconfigure(vm_, edit, "fake guest " + key,
                             std::chrono::steady_clock::now() + std::chrono::seconds(30));
  }

 private:
  std::shared_ptr<vsphere::VimClient> vim_;
  vsphere::MoRef vm_;
  const std::atomic<bool>* stop_;
};

}  // namespace

Result<std::unique_ptr<VsphereFakeGuest>> VsphereFakeGuest::Start(const std::string& uri,
                                                                  const std::string& vm_name,
                                                                  const std::string& dir) {
  std::unique_ptr<VsphereFakeGuest> g(new VsphereFakeGuest());
  g->dir_ = dir;
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  GITDISC_ASSIGN_OR_RETURN(VsphereTarget t, ParseVsphereUri(uri));
  GITDISC_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(t.password_file));
  vsphere::SoapOptions so;
  so.host = t.host;
  so.port = t.port;
  so.insecure = t.insecure;
  so.ca_file = t.ca_file;
  GITDISC_ASSIGN_OR_RETURN(auto vim, vsphere::VimClient::Connect(so, t.user, password));
  g->vim_ = std::move(vim);
  g->dc_path_ = t.datacenter;
  GITDISC_ASSIGN_OR_RETURN(vsphere::MoRef dc, g->vim_->FindDatacenter(t.datacenter));
  GITDISC_ASSIGN_OR_RETURN(vsphere::MoRef folder, g->vim_->VmFolder(dc));
  GITDISC_ASSIGN_OR_RETURN(auto vms, g->vim_->ListVms(folder));
  vsphere::MoRef ref;
  for (const auto& v : vms) {
    if (v.name == vm_name) ref = v.ref;
  }
  if (ref.empty()) return Status::NotFound("fake guest: no VM " + vm_name);
  g->vm_ = ref.value;

  guest::AgentOptions ao;
  ao.state_dir = dir + "/state";
  ao.discs = {g->disc_path()};
  ao.disc_retry = milliseconds(10'000);
  ao.kill_grace = milliseconds(500);
  GITDISC_ASSIGN_OR_RETURN(g->agent_, guest::Agent::Create(ao, guest::MakeLinuxAgentSystem()));

  VsphereFakeGuest* self = g.get();
  g->drive_thread_ = std::thread([self] { self->DriveLoop(); });
  g->agent_thread_ = std::thread([self, ref] {
    guest::GuestinfoOptions go;
    go.idle_poll = milliseconds(50);
    go.retry_sleep = milliseconds(200);
    go.mailbox.min_poll = milliseconds(10);
    go.mailbox.max_poll = milliseconds(100);
    go.stop = &self->stop_;
    auto store = std::make_shared<SimulatorGuestinfo>(self->vim_, ref, &self->stop_);
    (void)guest::MakeGuestinfoTransport(store, go)->Run(*self->agent_);
  });
  return g;
}

VsphereFakeGuest::~VsphereFakeGuest() {
  stop_.store(true);
  if (agent_thread_.joinable()) agent_thread_.join();
  if (drive_thread_.joinable()) drive_thread_.join();
  if (agent_) agent_->WaitIdle();
}

void VsphereFakeGuest::DriveLoop() {
  std::string current;  // the ISO in the drive, as the disc file holds it
  const vsphere::MoRef ref{"VirtualMachine", vm_};
  while (!stop_.load()) {
    auto vm = vim_->GetVmProperties(ref, {"config.hardware.device"});
    if (vm.ok()) {
      std::string iso;
      for (const auto& c : vm->cdroms) {
        if (!c.file_name.empty() && c.connected) {
          iso = c.file_name;
          break;
        }
      }
      if (iso != current) {
        if (iso.empty()) {
          std::remove(disc_path().c_str());
          current.clear();
        } else {
          std::string tmp = disc_path() + ".download";
          Status s = vim_->Download(dc_path_, vsphere::DatastoreOfPath(iso),
                                    vsphere::RelativeOfPath(iso), tmp);
          if (s.ok() && std::rename(tmp.c_str(), disc_path().c_str()) == 0) {
            current = iso;
            discs_seen_.fetch_add(1);
          }
        }
      }
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

}  // namespace gitdisc::test_support
