// VsphereFakeGuest: plays the inside of one VM of the vCenter simulator, so
// the vSphere provider's channel and a whole reconcile can be tested without
// VMware Tools. It runs the real gitdisc Agent behind the real
// vmware-guestinfo transport (guest/guestinfo_transport.h), with a
// GuestinfoStore that reads and sets the VM's guestinfo values through the
// simulator's API (its own login session) — what vmware-rpctool does from
// inside a real guest. A second thread plays the CD-ROM: whenever the VM's
// drive holds an ISO, it downloads it from the datastore to disc_path(),
// which the agent reads as its disc; an ejected drive removes the file.
//
// Thread-safety: start and destroy from one thread; it runs its own threads.
#ifndef GITDISC_TESTS_SUPPORT_VSPHERE_FAKE_GUEST_H_
#define GITDISC_TESTS_SUPPORT_VSPHERE_FAKE_GUEST_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"

namespace gitdisc::guest {
class Agent;
}
namespace gitdisc::vsphere {
class VimClient;
}

namespace gitdisc::test_support {

class VsphereFakeGuest {
 public:
  // `uri`: a vsphere:// URI of the simulator; `vm_name`: the VM to play;
  // `dir`: where the agent keeps its state and the disc lands (created).
  static Result<std::unique_ptr<VsphereFakeGuest>> Start(const std::string& uri,
                                                         const std::string& vm_name,
                                                         const std::string& dir);
  ~VsphereFakeGuest();
  VsphereFakeGuest(const VsphereFakeGuest&) = delete;
  VsphereFakeGuest& operator=(const VsphereFakeGuest&) = delete;

  std::string disc_path() const { return dir_ + "/disc.iso"; }
  // ISO downloads so far (one per inserted image).
  int discs_seen() const { return discs_seen_.load(); }

 private:
  VsphereFakeGuest() = default;
  void DriveLoop();

  std::string dir_;
  std::shared_ptr<vsphere::VimClient> vim_;
  std::string vm_;  // moref value
  std::string dc_path_;
  std::unique_ptr<guest::Agent> agent_;
  std::atomic<bool> stop_{false};
  std::atomic<int> discs_seen_{0};
  std::thread agent_thread_, drive_thread_;
};

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_VSPHERE_FAKE_GUEST_H_
