#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gitdisc::test_support {

Result<std::unique_ptr<TcpToUnixProxy>> TcpToUnixProxy::Start(const std::string& unix_path) {
  std::unique_ptr<TcpToUnixProxy> p(new TcpToUnixProxy());
  p->unix_path_ = unix_path;
  p->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p->listen_fd_ < 0) return Status::FromErrno("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only, never a public address
  addr.sin_port = 0;
  if (::bind(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Status::FromErrno("bind 127.0.0.1", errno);
  }
  if (::listen(p->listen_fd_, 16) != 0) return Status::FromErrno("listen", errno);
  socklen_t len = sizeof addr;
  if (::getsockname(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Status::FromErrno("getsockname", errno);
  }
  p->port_ = ntohs(addr.sin_port);
  p->acceptor_ = std::thread([raw = p.get()] { raw->AcceptLoop(); });
  return p;
}

TcpToUnixProxy::~TcpToUnixProxy() {
  stop_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> l(mu_);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::string TcpToUnixProxy::LibvirtUri() const {
  return "qemu+tcp://127.0.0.1:" + std::to_string(port_) + "/system";
}

void TcpToUnixProxy::AcceptLoop() {
  while (!stop_.load()) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    int rc = ::poll(&pfd, 1, 100);
    if (rc <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int upstream = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, unix_path_.c_str(), sizeof(un.sun_path) - 1);
    if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
      ::close(client);
      if (upstream >= 0) ::close(upstream);
      continue;
    }
    connections_.fetch_add(1);
    std::lock_guard<std::mutex> l(mu_);
    active_fds_.push_back(client);
    active_fds_.push_back(upstream);
    pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
  }
}

void TcpToUnixProxy::Pump(int a, int b) {
  char buf[64 * 1024];
  bool open = true;
  while (open && !stop_.load()) {
    pollfd pfd[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    int rc = ::poll(pfd, 2, 100);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    for (int i = 0; i < 2 && open; ++i) {
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int from = i == 0 ? a : b, to = i == 0 ? b : a;
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) {
        open = false;
        break;
      }
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          open = false;
          break;
        }
        off += w;
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    std::erase(active_fds_, a);
    std::erase(active_fds_, b);
  }
  ::close(a);
  ::close(b);
}

void TcpToUnixProxy::DropConnections() {
  std::lock_guard<std::mutex> l(mu_);
  // shutdown, not close: the pump threads own the descriptors and close them.
  for (int fd : active_fds_) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace gitdisc::test_support
