// Reads a running daemon's fleet status (GET /api/v1/status) for
// `gitdisc status --server URL`. Blocking; safe to call from any thread.
#ifndef GITDISC_CLI_STATUS_CLIENT_H_
#define GITDISC_CLI_STATUS_CLIENT_H_

#include <chrono>
#include <string>

#include "base/status.h"
#include "reconciler/fleet_status.h"

namespace gitdisc::cli {

// url: "http://host:port" (a trailing slash or path prefix is allowed).
// kUnavailable when the daemon cannot be reached, kInvalid for a bad URL or
// an answer that is not a schemaVersion 1 status.
Result<reconciler::FleetStatus> FetchFleetStatus(const std::string& url,
                                                 std::chrono::seconds timeout);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_STATUS_CLIENT_H_
