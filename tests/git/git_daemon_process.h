// GitDaemonProcess: a real `git daemon` serving every repository below a
// folder over git:// on 127.0.0.1, for tests that fetch through the network.
//
// The daemon runs in a process group of its own, so Kill() ends it together
// with the upload-pack / pack-objects children it forked for open
// connections, as a crashed or rebooted Git server would. The destructor
// kills what is still running. Used from one thread (Kill may be called from
// another, e.g. a relay's callback, while the owner waits).
#ifndef GITDISC_TESTS_GIT_GIT_DAEMON_PROCESS_H_
#define GITDISC_TESTS_GIT_GIT_DAEMON_PROCESS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

extern char** environ;

namespace gitdisc::testing {

class GitDaemonProcess {
 public:
  // Starts `git daemon --export-all --base-path=BASE` on a free loopback
  // port and returns once it accepts connections. Throws (with the daemon's
  // log) when it cannot be started within `ready_within`.
  explicit GitDaemonProcess(std::string base_path, std::string log_path,
                            std::chrono::milliseconds ready_within = std::chrono::seconds(10))
      : base_path_(std::move(base_path)), log_path_(std::move(log_path)) {
    // A free port is only known free until someone else binds it: when the
    // daemon loses that race it exits, and another port is tried.
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreeLoopbackPort();
      Spawn();
      if (WaitReady(ready_within)) return;
      Kill();
    }
    throw std::runtime_error("git daemon did not start; its log:\n" + Log());
  }
  ~GitDaemonProcess() { Kill(); }
  GitDaemonProcess(const GitDaemonProcess&) = delete;
  GitDaemonProcess& operator=(const GitDaemonProcess&) = delete;

  int port() const { return port_; }
  // "git://127.0.0.1:PORT/<relative>" for a repository below the base path.
  std::string Url(const std::string& relative) const {
    return "git://127.0.0.1:" + std::to_string(port_) + "/" + relative;
  }

  // SIGKILL to the daemon and every process it started; reaps the daemon.
  void Kill() {
    if (process_) process_->Kill();
  }

  std::string Log() const { return process_ ? process_->Log() : std::string(); }

 private:
  void Spawn() {
    std::vector<std::string> args = {"git",
                                     "daemon",
                                     "--export-all",
                                     "--reuseaddr",
                                     "--informative-errors",
                                     "--listen=127.0.0.1",
                                     "--port=" + std::to_string(port_),
                                     "--base-path=" + base_path_,
                                     base_path_};
    // The machine's git configuration must not change what is served.
    std::vector<std::string> env = {"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "GIT_", 4) != 0) env.emplace_back(*e);
    }
    process_ = std::make_unique<ChildProcess>(std::move(args), std::move(env), log_path_);
  }

  // Polls with connect() until the daemon listens, it exits, or the deadline.
  bool WaitReady(std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_->Running()) return false;  // exited: e.g. the port was taken meanwhile
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return true;
      ::usleep(10 * 1000);  // a retry interval, not synchronisation: the deadline bounds it
    }
    return false;
  }

  std::string base_path_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_GIT_GIT_DAEMON_PROCESS_H_
