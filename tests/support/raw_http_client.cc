#include "tests/support/raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace gitdisc::test_support {
namespace {

sockaddr_in Ipv4(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  return a;
}

}  // namespace

Result<RawHttpClient> RawHttpClient::Connect(const std::string& from, const std::string& host,
                                             int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Status::FromErrno("socket", errno);
  sockaddr_in local = Ipv4(from, 0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return Status::FromErrno("bind " + from, errno);
  }
  sockaddr_in peer = Ipv4(host, port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    return Status::FromErrno("connect " + host + ":" + std::to_string(port), errno);
  }
  return RawHttpClient(std::move(fd));
}

bool RawHttpClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawHttpClient::ReadOnce(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (eof_ || left <= 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[16384];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }
}

std::string RawHttpClient::ReadUntil(std::chrono::milliseconds timeout, std::string_view bytes) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while ((bytes.empty() || received_.find(bytes) == std::string::npos) && ReadOnce(deadline)) {
  }
  return received_;
}

std::optional<std::string> RawHttpClient::ReadResponse(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find("\r\n\r\n") == std::string::npos && ReadOnce(deadline)) {
  }
  size_t end = received_.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  size_t length = 0;
  size_t cl = received_.find("Content-Length: ");
  if (cl != std::string::npos && cl < end) {
    length = std::strtoull(received_.c_str() + cl + 16, nullptr, 10);
  }
  size_t total = end + 4 + length;
  while (received_.size() < total && ReadOnce(deadline)) {
  }
  if (received_.size() < total) return std::nullopt;
  std::string response = received_.substr(0, total);
  received_.erase(0, total);
  return response;
}

bool RawHttpClient::Closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ReadOnce(deadline)) {
  }
  return eof_;
}

int StatusCodeOf(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(response.substr(9, 3)).c_str());
}

}  // namespace gitdisc::test_support
