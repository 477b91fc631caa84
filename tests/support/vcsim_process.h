// VcsimProcess: govmomi's vCenter simulator (gitdisc-vcsim, built from
// Debian's govmomi by tests/vsphere/build-vcsim.sh) as a child process on
// 127.0.0.1 with TLS, for the vSphere provider's tests. It gets a private
// folder (its datastores live there: TMPDIR), a password file (0600), and is
// killed and cleaned up by the destructor.
//
// Default model (govmomi's VPX): datacenter DC0, one datastore LocalDS_0,
// a standalone host and a 3-host cluster, each with `vms` VMs
// (DC0_H0_VM0, DC0_C0_RP0_VM0, …), powered on, each with one empty CD-ROM,
// which the model attaches to its paravirtual SCSI controller (scsi0:0) with
// an ATAPI placeholder backing.
//
// Thread-compatible; Kill/Stop/Continue may be called from any thread.
#ifndef GITDISC_TESTS_SUPPORT_VCSIM_PROCESS_H_
#define GITDISC_TESTS_SUPPORT_VCSIM_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace gitdisc::test_support {

struct VcsimOptions {
  std::string binary;  // gitdisc-vcsim
  std::string user = "gitdisc";
  std::string password = "vcsim-Pa55word-not-for-logs";
  int vms = 2;                          // per host
  std::vector<std::string> delays;      // METHOD=MS
  std::vector<std::string> powered_off; // VM names
};

class VcsimProcess {
 public:
  // Starts it and waits (up to 30 s) until it listens.
  static Result<std::unique_ptr<VcsimProcess>> Start(VcsimOptions options);
  ~VcsimProcess();
  VcsimProcess(const VcsimProcess&) = delete;
  VcsimProcess& operator=(const VcsimProcess&) = delete;

  // vsphere://USER@127.0.0.1:PORT/DC0?insecure=1&passwordFile=… (+ `extra`
  // query parameters, "&caFile=…").
  std::string Uri(const std::string& extra = "") const;
  // The same, verified against the simulator's own certificate.
  std::string VerifiedUri() const;
  const std::string& address() const { return address_; }  // 127.0.0.1:PORT
  const std::string& dir() const { return dir_; }
  std::string password_file() const { return dir_ + "/password"; }
  std::string cert_file() const { return dir_ + "/cert.pem"; }
  std::string log_file() const { return dir_ + "/vcsim.log"; }
  const VcsimOptions& options() const { return options_; }

  void Kill();      // SIGKILL: gone at once, connections reset
  void Stop();      // SIGSTOP: connections stay open, nothing answers
  void Continue();  // SIGCONT

 private:
  VcsimProcess() = default;
  VcsimOptions options_;
  std::string dir_;
  std::string address_;
  pid_t pid_ = -1;
};

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_VCSIM_PROCESS_H_
