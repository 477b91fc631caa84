// HostAllowed: the Host-header check that keeps a web page in someone's
// browser from reaching the daemon through DNS rebinding (a name the page's
// origin controls, re-pointed at 127.0.0.1). The header's host part — without
// the port, brackets of an IPv6 literal removed — must equal one of the
// allowed names, case-insensitively. An empty list allows every host.
//
// DefaultAllowedHosts: what a daemon listening on loopback accepts when the
// config names no allowedHosts (localhost, 127.0.0.1, ::1 and the listen
// host); an empty list (no check) for any other listen address.
// Pure; thread-safe.
#ifndef GITDISC_SERVE_HOST_CHECK_H_
#define GITDISC_SERVE_HOST_CHECK_H_

#include <optional>
#include <string>
#include <vector>

namespace gitdisc::serve {

bool HostAllowed(const std::optional<std::string>& host_header,
                 const std::vector<std::string>& allowed);

std::vector<std::string> DefaultAllowedHosts(const std::string& listen_host);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_HOST_CHECK_H_
