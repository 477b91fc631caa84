// RunDaemon: `gitdisc serve` from a validated config to its exit status
// (DESIGN.md §8, docs/daemon.md): the log, the private state folder, the
// metrics, the controller (built by the caller's factory, so serve/ never
// depends on the commands in cli/), the notifications (commit statuses, pull
// request previews, alerts: serve/notifications.h), the HTTP server and the
// Daemon loop;
// SIGTERM/SIGINT are awaited on a thread of their own, then everything shuts
// down in order.
//
// Exit status: kDaemonExitOk after a signal (also when the grace period ran
// out: see below); kDaemonExitError when the controller or the HTTP server
// cannot start. When the grace period ends with work in flight, a thread is
// still inside the controller's Stop(): the process then ends at once with
// kDaemonExitOk, without destroying the controller under that thread (the
// work is recovered at the next start, DESIGN.md §7).
//
// Call from main's thread, before any other thread exists (it blocks the
// signals it waits for).
#ifndef GITDISC_SERVE_RUN_DAEMON_H_
#define GITDISC_SERVE_RUN_DAEMON_H_

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "reconciler/controller.h"
#include "serve/daemon.h"
#include "serve/daemon_log.h"
#include "serve/metrics.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

inline constexpr int kDaemonExitOk = 0;
inline constexpr int kDaemonExitError = 2;

struct DaemonRunOptions {
  std::string config_path;  // named in the log
  LogFormat log_format = LogFormat::kText;
  bool verbose = false;
  std::chrono::seconds shutdown_grace{90};
};

// What RunDaemon owns that the controller's housekeeping reports to; valid
// until the ServedController is destroyed.
struct DaemonServices {
  GitdiscMetrics* metrics = nullptr;
  DaemonLog* log = nullptr;
  const Clock* clock = nullptr;
};

// Builds the controller for `config` with `options` (the daemon's hooks for
// metrics and the log already set). Called once, before the HTTP server starts.
using ControllerFactory = std::function<Result<std::unique_ptr<ServedController>>(
    const ServeConfig& config, reconciler::ControllerOptions options,
    const DaemonServices& services)>;

int RunDaemon(const ServeConfig& config, const DaemonRunOptions& options,
              const ControllerFactory& make_controller, std::ostream& err);

// Creates STATE (0750) or takes away what other users may do in an existing
// one (mode & 007): images, mirrors and artifacts are the daemon's own. When
// QEMU's user could not search it, its group becomes QEMU's (setgid, so
// isos/ inherits it): QEMU opens inserted images by path (docs/security.md).
Status MakeStateDirPrivate(const std::string& state_dir);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_RUN_DAEMON_H_
