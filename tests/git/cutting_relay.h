// CuttingRelay: a loopback TCP relay between a Git client and a Git server
// that can fail a transfer in its middle, for tests of interrupted fetches.
//
// Every accepted connection is joined to 127.0.0.1:upstream_port and bytes
// are copied both ways. Armed with Arm(n, action), the relay watches the
// server→client stream of each new connection; once n bytes of it have been
// forwarded it
//   - kClose: closes both sides itself (the network is cut);
//   - kCallback: runs a callback (e.g. kill the server process), then keeps
//     forwarding what the server still sends until it closes;
//   - kStall: forwards nothing more either way but keeps both connections
//     open (the remote goes silent) until DropAll or the relay's end.
// Each interrupted connection is recorded, once closed, with how many server
// bytes reached the client and where in that stream the pack ("PACK"
// signature) began, so a test can show the cut fell inside the pack.
//
// Thread-safety: all public methods may be called from any thread; the relay
// runs its own threads and closes every connection on destruction.
#ifndef GITDISC_TESTS_GIT_CUTTING_RELAY_H_
#define GITDISC_TESTS_GIT_CUTTING_RELAY_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gitdisc::testing {

class CuttingRelay {
 public:
  enum class Action { kClose, kCallback, kStall };

  struct Interruption {
    uint64_t server_bytes = 0;    // server→client bytes forwarded before the cut
    int64_t pack_offset = -1;     // where "PACK" began in that stream; -1: never seen
    uint64_t after_callback = 0;  // kCallback: bytes still forwarded after it ran
  };

  explicit CuttingRelay(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("relay socket: " + Errno());
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::string e = Errno();
      ::close(listen_fd_);
      throw std::runtime_error("relay listen on 127.0.0.1: " + e);
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~CuttingRelay() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_.store(true);
      cv_.notify_all();
    }
    acceptor_.join();
    for (auto& t : pumps_) t.join();  // the acceptor, which adds pumps, has ended
    ::close(listen_fd_);
  }
  CuttingRelay(const CuttingRelay&) = delete;
  CuttingRelay& operator=(const CuttingRelay&) = delete;

  int port() const { return port_; }
  void set_upstream_port(int port) { upstream_port_.store(port); }

  // Connections accepted from now on are interrupted after `server_bytes`.
  void Arm(uint64_t server_bytes, Action action = Action::kClose,
           std::function<void()> callback = {}) {
    std::lock_guard<std::mutex> l(mu_);
    arm_ = Armed{server_bytes, action, std::move(callback)};
  }
  // Connections accepted from now on are relayed whole.
  void Heal() {
    std::lock_guard<std::mutex> l(mu_);
    arm_.reset();
  }

  // Closes every connection now open, stalled ones included.
  void DropAll() {
    std::lock_guard<std::mutex> l(mu_);  // so a stalled pump cannot miss the wake-up
    drops_.fetch_add(1);
    cv_.notify_all();
  }

  int connections() const { return connections_.load(); }
  // Waits until `count` connections have been interrupted and closed, or the
  // deadline; returns the interruptions so far.
  std::vector<Interruption> WaitForInterruptions(size_t count,
                                                 std::chrono::milliseconds within) const {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, within, [&] { return interruptions_.size() >= count; });
    return interruptions_;
  }

 private:
  struct Armed {
    uint64_t server_bytes;
    Action action;
    std::function<void()> callback;
  };

  static std::string Errno() { return std::strerror(errno); }
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }
  // Writes all of `data`; false when the peer is gone.
  static bool WriteAll(int fd, const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  void AcceptLoop() {
    while (!stop_.load()) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;  // the timeout only lets stop_ be seen
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      // A small receive buffer keeps what the server has sent but the client
      // has not yet received small, so an interruption cannot come after the
      // server already handed over (nearly) everything.
      int small = 64 * 1024;
      ::setsockopt(server, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      sockaddr_in addr = Loopback(upstream_port_.load());
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(server);
        ::close(client);  // as a refused connection: the client sees it at once
        continue;
      }
      connections_.fetch_add(1);
      std::optional<Armed> arm;
      {
        std::lock_guard<std::mutex> l(mu_);
        arm = arm_;
      }
      pumps_.emplace_back(
          [this, client, server, arm = std::move(arm)] { Pump(client, server, arm); });
    }
  }

  // kStall: the connection stays open and silent both ways, as behind a
  // network path that drops packets without a reset, until DropAll or the
  // relay's end.
  void Stall(int drops) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stop_.load() || drops_.load() != drops; });
  }

  void Pump(int client, int server, std::optional<Armed> arm) {
    char buf[16 * 1024];
    uint64_t from_server = 0;
    int64_t pack_offset = -1;
    std::string tail;  // the last bytes seen, to find "PACK" across reads
    bool interrupted = false;
    uint64_t after_callback = 0;
    const int drops = drops_.load();
    bool open = true;
    while (open && !stop_.load() && drops_.load() == drops) {
      pollfd pfd[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      int rc = ::poll(pfd, 2, 50);  // the timeout only lets stop_ be seen
      if (rc < 0 && errno != EINTR) break;
      if (rc <= 0) continue;
      if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        open = n > 0 && WriteAll(server, buf, static_cast<size_t>(n));
      }
      if (!open || !(pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t want = sizeof buf;
      if (arm && !interrupted) want = std::min<uint64_t>(want, arm->server_bytes - from_server);
      ssize_t n = ::recv(server, buf, want, 0);
      if (n <= 0) break;
      if (interrupted) {
        after_callback += static_cast<uint64_t>(n);
      } else if (pack_offset < 0) {
        std::string seen = tail + std::string(buf, static_cast<size_t>(n));
        size_t at = seen.find("PACK");
        if (at != std::string::npos) {
          pack_offset = static_cast<int64_t>(from_server + at) - static_cast<int64_t>(tail.size());
        }
        tail = seen.substr(seen.size() >= 3 ? seen.size() - 3 : 0);
      }
      open = WriteAll(client, buf, static_cast<size_t>(n));
      if (!interrupted) from_server += static_cast<uint64_t>(n);
      if (arm && !interrupted && from_server >= arm->server_bytes) {
        interrupted = true;
        if (arm->action == Action::kClose) break;
        if (arm->action == Action::kStall) {
          Stall(drops);
          break;
        }
        if (arm->callback) arm->callback();
      }
    }
    ::close(server);
    ::close(client);
    if (interrupted) {
      std::lock_guard<std::mutex> l(mu_);
      interruptions_.push_back({from_server, pack_offset, after_callback});
      cv_.notify_all();
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> upstream_port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> drops_{0};  // DropAll calls so far
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> pumps_;  // only touched by the acceptor, then the destructor
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::optional<Armed> arm_;                 // guarded by mu_
  std::vector<Interruption> interruptions_;  // guarded by mu_
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_GIT_CUTTING_RELAY_H_
