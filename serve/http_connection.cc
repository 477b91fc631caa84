#include "serve/http_connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gitdisc::serve {

HttpConnection::HttpConnection(UniqueFd fd, std::string remote_addr, int remote_port,
                               std::string local_addr, int local_port, std::string client_key)
    : fd_(std::move(fd)),
      remote_addr_(std::move(remote_addr)),
      remote_port_(remote_port),
      local_addr_(std::move(local_addr)),
      local_port_(local_port),
      client_key_(std::move(client_key)) {}

size_t HttpConnection::Read(char* out, size_t n) {
  size_t k = std::min(n, request_len_ - read_pos_);
  std::memcpy(out, buf_.data() + read_pos_, k);
  read_pos_ += k;
  return k;
}

bool HttpConnection::Writable() const {
  pollfd p{fd_.get(), POLLOUT, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) != 0;
}

bool HttpConnection::Write(const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd_.get(), data, n, MSG_NOSIGNAL);
    if (w > 0) {
      data += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_.get(), POLLOUT, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) return false;
    if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return false;
  }
  return true;
}

}  // namespace gitdisc::serve
