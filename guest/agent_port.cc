#include "guest/agent_port.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "base/file_util.h"
#include "guest/protocol.h"

namespace gitdisc::guest {
namespace {

class PortStream final : public ByteStream {
 public:
  PortStream(int fd, std::chrono::milliseconds write_deadline)
      : fd_(fd), write_deadline_(write_deadline) {}
  ~PortStream() override { Close(); }

  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) override {
    if (fd_ < 0) return Status::Io("read: port closed");
    struct pollfd p = {fd_, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return Status::FromErrno("poll", errno);
    if (rc == 0) return Status::Timeout("read: nothing arrived");
    for (;;) {
      ssize_t got = ::read(fd_, buf, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == EAGAIN) {
        // Hung up with nothing to read: no host on the other end.
        if (p.revents & (POLLHUP | POLLERR)) return size_t{0};
        return Status::Timeout("read: would block");
      }
      if (got < 0) return Status::FromErrno("read", errno);
      bytes_read_ += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
  }

  Status Write(std::string_view data) override {
    if (fd_ < 0) return Status::Io("write: port closed");
    auto deadline = std::chrono::steady_clock::now() + write_deadline_;
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == ENOTSOCK) n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return Status::Timeout("write: the host is not reading");
        struct pollfd p = {fd_, POLLOUT, 0};
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
        continue;
      }
      if (n < 0) return Status::FromErrno("write", errno);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  void Close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Bytes read since the previous call: did a host talk on this connection?
  uint64_t TakeBytesRead() { return std::exchange(bytes_read_, 0); }

 private:
  int fd_;
  std::chrono::milliseconds write_deadline_;
  uint64_t bytes_read_ = 0;
};

void Log(const std::string& msg) { std::fprintf(stderr, "gitdisc-agent: %s\n", msg.c_str()); }

}  // namespace

Result<std::string> FindPortByName(const std::string& sysfs_dir, const std::string& name) {
  DIR* d = ::opendir(sysfs_dir.c_str());
  if (!d) return Status::FromErrno("open " + sysfs_dir, errno);
  std::string found;
  while (struct dirent* e = ::readdir(d)) {
    std::string port = e->d_name;
    if (port.empty() || port[0] == '.') continue;
    auto text = ReadFile(JoinPath(JoinPath(sysfs_dir, port), "name"), 4096);
    if (!text.ok()) continue;
    std::string n = *text;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.pop_back();
    if (n == name) {
      found = port;
      break;
    }
  }
  ::closedir(d);
  if (found.empty()) return Status::NotFound("no virtio port named " + name + " in " + sysfs_dir);
  return found;
}

Result<std::unique_ptr<ByteStream>> OpenPort(const std::string& path,
                                             std::chrono::milliseconds write_deadline) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  int fd;
  if (S_ISSOCK(st.st_mode)) {
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return Status::Invalid("socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return Status::FromErrno("socket", errno);
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("connect " + path, err);
    }
  } else {
    fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return Status::FromErrno("open " + path, errno);
  }
  return std::unique_ptr<ByteStream>(new PortStream(fd, write_deadline));
}

Status RunAgentLoop(Agent& agent, const PortOptions& options) {
  int connections = 0;
  bool said_waiting = false;
  for (;;) {
    std::string path = options.port;
    if (path.empty()) {
      auto port = FindPortByName(options.sysfs_dir, kChannelName);
      if (!port.ok()) {
        if (!said_waiting) Log("waiting for the port: " + port.status().message());
        said_waiting = true;
        std::this_thread::sleep_for(options.retry_sleep);
        continue;
      }
      path = JoinPath(options.dev_dir, *port);
    }
    auto stream = OpenPort(path, options.write_deadline);
    if (!stream.ok()) {
      if (!said_waiting) Log("cannot open the port: " + stream.status().message());
      said_waiting = true;
      std::this_thread::sleep_for(options.retry_sleep);
      continue;
    }
    said_waiting = false;
    Log("listening on " + path);
    struct stat st;
    bool socket = ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
    auto* port = dynamic_cast<PortStream*>(stream->get());
    // A host that hung up often comes back at once (the controller's next
    // pass opens the channel again within milliseconds), so after a
    // connection that carried data the waits start short and double up to
    // idle_sleep; an idle port is polled every idle_sleep.
    std::chrono::milliseconds wait = options.idle_sleep;
    for (;;) {
      Status s = agent.Serve(stream->get());
      if (options.max_connections > 0 && ++connections >= options.max_connections) {
        return s;
      }
      if (!s.ok()) {
        Log("connection error, reopening: " + s.ToString());
        break;
      }
      // End of stream: a socket peer is gone for good; a port just has no
      // host right now, so wait a little and serve it again.
      if (socket) break;
      if (port != nullptr && port->TakeBytesRead() > 0) wait = std::chrono::milliseconds(5);
      wait = std::min(wait, options.idle_sleep);
      std::this_thread::sleep_for(wait);
      wait *= 2;
    }
    std::this_thread::sleep_for(options.idle_sleep);
  }
}

}  // namespace gitdisc::guest
