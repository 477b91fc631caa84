// TcpToUnixProxy: listens on 127.0.0.1 (an ephemeral port, loopback only) and
// forwards every connection to a unix socket. Tests use it to reach the
// running libvirtd through `qemu+tcp://127.0.0.1:PORT/system` — libvirt's
// real remote protocol over TCP — without reconfiguring or restarting the
// shared daemon (scripts/libvirtd-tcp-test.sh is the daemon-side alternative
// for CI machines of their own). The daemon sees the proxy's credentials
// (root), so unix-socket auth applies as for a local root client.
//
// Thread-safety: Start/port/destructor from one thread; the proxy runs its
// own threads and stops them (closing all forwarded connections) on destruction.
#ifndef GITDISC_TESTS_SUPPORT_TCP_PROXY_H_
#define GITDISC_TESTS_SUPPORT_TCP_PROXY_H_

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace gitdisc::test_support {

class TcpToUnixProxy {
 public:
  static Result<std::unique_ptr<TcpToUnixProxy>> Start(
      const std::string& unix_path = "/run/libvirt/libvirt-sock");
  ~TcpToUnixProxy();
  TcpToUnixProxy(const TcpToUnixProxy&) = delete;
  TcpToUnixProxy& operator=(const TcpToUnixProxy&) = delete;

  int port() const { return port_; }
  // "qemu+tcp://127.0.0.1:PORT/system"
  std::string LibvirtUri() const;
  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Cuts every forwarded connection (as a network failure or a daemon restart
  // would) while the listener stays up, so clients can reconnect.
  void DropConnections();

 private:
  TcpToUnixProxy() = default;
  void AcceptLoop();
  void Pump(int a, int b);

  std::string unix_path_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::vector<int> active_fds_;  // guarded by mu_
};

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_TCP_PROXY_H_
