#include "serve/host_check.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "base/ascii.h"

namespace gitdisc::serve {
namespace {

// "Name:port" → "name"; "[::1]:9420" → "::1". nullopt when malformed.
std::optional<std::string> HostPart(const std::string& header) {
  std::string h = header;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close == std::string::npos) return std::nullopt;
    std::string rest = h.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return std::nullopt;
    return AsciiLower(h.substr(1, close - 1));
  }
  size_t colon = h.find(':');
  if (colon != std::string::npos) {
    if (h.find(':', colon + 1) != std::string::npos) return std::nullopt;  // bare IPv6
    h.resize(colon);
  }
  if (h.empty()) return std::nullopt;
  if (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is localhost
  return AsciiLower(h);
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr a4{};
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  return ::inet_pton(AF_INET6, host.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

}  // namespace

bool HostAllowed(const std::optional<std::string>& host_header,
                 const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  if (!host_header) return false;
  auto host = HostPart(*host_header);
  if (!host) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
    std::string want = AsciiLower(a);
    if (want.size() > 2 && want.front() == '[' && want.back() == ']') {
      want = want.substr(1, want.size() - 2);
    }
    return want == *host;
  });
}

std::vector<std::string> DefaultAllowedHosts(const std::string& listen_host) {
  if (!IsLoopback(AsciiLower(listen_host))) return {};
  std::vector<std::string> hosts = {"localhost", "127.0.0.1", "::1"};
  if (std::find(hosts.begin(), hosts.end(), AsciiLower(listen_host)) == hosts.end()) {
    hosts.push_back(AsciiLower(listen_host));
  }
  return hosts;
}

}  // namespace gitdisc::serve
