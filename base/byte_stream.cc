#include "base/byte_stream.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace gitdisc {
namespace {

class FdStream final : public ByteStream {
 public:
  explicit FdStream(int fd) : fd_(fd) {}
  ~FdStream() override { Close(); }

  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) override {
    int fd = fd_.load();
    if (fd < 0) return Status::Io("read: stream closed");
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
      int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return Status::FromErrno("poll", errno);
      if (rc == 0) return Status::Timeout("read: nothing arrived in " +
                                          std::to_string(timeout.count()) + " ms");
      break;
    }
    for (;;) {
      ssize_t got = ::read(fd, buf, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == EAGAIN) return Status::Timeout("read: would block");
      if (got < 0) return Status::FromErrno("read", errno);
      return static_cast<size_t>(got);
    }
  }

  Status Write(std::string_view data) override {
    int fd = fd_.load();
    if (fd < 0) return Status::Io("write: stream closed");
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      if (n < 0) return Status::FromErrno("write", errno);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  void Close() override {
    int fd = fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
  }

 private:
  std::atomic<int> fd_;
};

}  // namespace

std::unique_ptr<ByteStream> MakeFdStream(int fd) { return std::make_unique<FdStream>(fd); }

}  // namespace gitdisc
