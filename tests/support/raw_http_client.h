// RawHttpClient: a TCP client that sends exactly the bytes a test gives it,
// from a chosen local address (127.0.0.2, 127.0.0.3, … are all loopback on
// Linux, so one machine can play many clients), for tests and benches that
// attack the daemon's HTTP listener: idle connections, heads trickled byte by
// byte, endless header lines, bodies without length.
//
// Not thread-safe; one client per thread.
#ifndef GITDISC_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_
#define GITDISC_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/unique_fd.h"

namespace gitdisc::test_support {

class RawHttpClient {
 public:
  // Connects from `from` (an IPv4 address, any port) to host:port.
  static Result<RawHttpClient> Connect(const std::string& from, const std::string& host, int port);

  // Sends all of `bytes`; false when the peer closed or reset.
  bool Send(std::string_view bytes);
  // Reads until the peer closes, `bytes` are in what was read, or `timeout`
  // passes. Returns what was read so far (also kept in received()).
  std::string ReadUntil(std::chrono::milliseconds timeout, std::string_view bytes = {});
  // Reads one whole response (head + Content-Length body) within timeout.
  std::optional<std::string> ReadResponse(std::chrono::milliseconds timeout);
  // True when the peer has closed (EOF or reset) — waits at most `timeout`.
  bool Closed(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }
  int fd() const { return fd_.get(); }

 private:
  explicit RawHttpClient(UniqueFd fd) : fd_(std::move(fd)) {}
  // One read into received_; false at EOF or the deadline.
  bool ReadOnce(std::chrono::steady_clock::time_point deadline);
  UniqueFd fd_;
  std::string received_;
  bool eof_ = false;
};

// The status code of a response ("HTTP/1.1 411 ..." → 411), 0 if none.
int StatusCodeOf(std::string_view response);

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_RAW_HTTP_CLIENT_H_
