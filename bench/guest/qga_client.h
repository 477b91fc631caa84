// QgaClient: qemu-guest-agent driven the way a user scripts it, through
// libvirt's virDomainQemuAgentCommand (what `virsh qemu-agent-command` calls),
// for the side-by-side figures of rows 4 and 7. The agent listens on the
// virtio-serial port org.qemu.guest_agent.0 — the same kind of channel as
// gitdisc's org.gitdisc.agent.0.
//
// Not thread-safe; one client per domain.
#ifndef GITDISC_BENCH_GUEST_QGA_CLIENT_H_
#define GITDISC_BENCH_GUEST_QGA_CLIENT_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::bench {

struct QgaExecResult {
  int exit_code = -1;
  std::string out;  // captured stdout
};

class QgaClient {
 public:
  static Result<std::unique_ptr<QgaClient>> Open(const std::string& uri,
                                                 const std::string& domain_name);
  ~QgaClient();
  QgaClient(const QgaClient&) = delete;
  QgaClient& operator=(const QgaClient&) = delete;

  // One command ({"execute": …, "arguments": …}); returns its "return" value.
  Result<nlohmann::json> Command(const nlohmann::json& command, int timeout_seconds = 30);
  // guest-ping until it answers or `seconds` pass.
  Status WaitReady(int seconds);

  // guest-file-open(path, "w"), guest-file-write of `data` in chunks of
  // `chunk` bytes (base64 on the wire), guest-file-close.
  Status WriteFile(const std::string& path, std::string_view data, size_t chunk);
  // guest-exec with captured output, then guest-exec-status every
  // `poll_ms` until the process exited.
  Result<QgaExecResult> Exec(const std::string& path, const std::vector<std::string>& args,
                             int poll_ms = 5);

 private:
  struct Handles;
  explicit QgaClient(std::unique_ptr<Handles> h);
  std::unique_ptr<Handles> h_;
};

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_GUEST_QGA_CLIENT_H_
