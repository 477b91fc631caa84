// ServeProcess: the real `gitdisc serve` binary as a child process, for tests
// and benchmarks of the daemon that need no VM: it follows a fresh Git
// repository (made with `git`) whose one PayloadSet selects no VM, on the
// libvirt `test:///default` connection, with a generic webhook secret and an
// API token, listening on 127.0.0.1 at a free port. Its log goes to a file
// in the work folder.
//
// Not thread-safe; the destructor kills a daemon still running (SIGKILL).
#ifndef GITDISC_TESTS_SUPPORT_SERVE_PROCESS_H_
#define GITDISC_TESTS_SUPPORT_SERVE_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::test_support {

struct ProcMemory {
  uint64_t rss_bytes = 0;  // VmRSS: resident now
  uint64_t hwm_bytes = 0;  // VmHWM: the peak so far
};

class ServeProcess {
 public:
  static constexpr char kWebhookSecret[] = "abuse-test-generic-secret";
  static constexpr char kApiToken[] = "abuse-test-api-token";

  // Starts the daemon and waits (up to `ready_within`) for /readyz.
  static Result<std::unique_ptr<ServeProcess>> Start(
      const std::string& gitdisc_binary,
      std::chrono::milliseconds ready_within = std::chrono::seconds(30));
  ~ServeProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }
  ProcMemory Memory() const;
  // Executing scans finished (gitdisc_reconcile_duration_seconds_count from
  // /metrics; -1 when unreadable).
  double ScansFinished() const;
  // Body of /metrics ("" when unreadable).
  std::string Metrics() const;
  // POSTs a correctly signed generic webhook for main; the HTTP status.
  int SignedWebhook(const std::string& delivery_id) const;
  // SIGTERM, then waits up to `within`; the exit status, or -1 when it did
  // not exit in time (it is then killed).
  int Terminate(std::chrono::milliseconds within);

 private:
  ServeProcess() : work_("serve-process") {}
  gitdisc::testing::TempDir work_;
  std::string log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_SERVE_PROCESS_H_
