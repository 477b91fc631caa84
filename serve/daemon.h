// Daemon: the run loop of `gitdisc serve`. It starts the controller's
// background work and the HTTP server, asks the controller to look at the
// source every poll interval (±10% jitter, so many daemons watching one Git
// host do not poll in lock-step), runs the housekeeping (cache bounds) on a
// thread of its own, and on RequestStop shuts down in order:
//   1. stop polling and stop the HTTP server (no new webhooks or API work),
//   2. stop the controller: it takes no new work and lets in-flight applies
//      finish, within a bounded grace period.
// An apply still running when the grace ends is left to the agent: its disc
// stays in the drive, where the next start recognises it (DESIGN.md §7), so
// nothing is lost; the daemon says so in the log and exits 0 anyway.
//
// Generic over ServedController (the real reconciler::Controller or a test
// fake), so the loop is unit-tested without libvirt or Git.
//
// Thread-safety: Start and Run are called from one thread; RequestStop may be
// called from any thread (e.g. a signal-waiting thread).
#ifndef GITDISC_SERVE_DAEMON_H_
#define GITDISC_SERVE_DAEMON_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/status.h"
#include "reconciler/controller_api.h"
#include "serve/daemon_log.h"
#include "serve/http_server.h"

namespace gitdisc::serve {

// The controller as the daemon runs it: its API plus a lifecycle.
class ServedController {
 public:
  virtual ~ServedController() = default;
  virtual reconciler::ControllerApi* api() = 0;
  // Starts background work (returns at once).
  virtual void Start() = 0;
  // Stops taking work and returns once in-flight work has finished.
  virtual void Stop() = 0;
  // One round of housekeeping (cache bounds, pool collection); the Daemon
  // calls it every housekeeping interval from a thread of its own.
  virtual void Housekeep() {}
};

struct DaemonOptions {
  std::chrono::milliseconds poll_interval{std::chrono::minutes(1)};
  double jitter = 0.1;  // ± fraction of the interval
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(90)};
  // Called on its own thread every housekeeping_interval until shutdown
  // (the cache keeper); null: none.
  std::function<void()> housekeeping;
  std::chrono::milliseconds housekeeping_interval{std::chrono::minutes(1)};
};

// interval × (1 - jitter + 2·jitter·r) for r in [0, 1]: the wait before the next poll.
std::chrono::milliseconds JitteredInterval(std::chrono::milliseconds interval, double jitter,
                                           double r);

class Daemon {
 public:
  // All pointers must outlive the daemon. random01 returns numbers in [0, 1]
  // (injected so tests are deterministic); null uses a seeded PRNG.
  Daemon(DaemonOptions options, ServedController* controller, HttpServer* http, DaemonLog* log,
         std::function<double()> random01 = nullptr);
  ~Daemon();

  // Starts the HTTP server, the controller and the poll timer.
  Status Start();
  // Blocks until RequestStop, then shuts down (see above). Returns true when
  // the controller stopped within the grace period. On false a thread is
  // still inside ServedController::Stop: the caller must exit the process
  // (cmd_serve calls std::_Exit(0)) without destroying the controller.
  bool Run();
  void RequestStop(const std::string& why);

  int polls() const;  // poll ticks so far (tests)

 private:
  void PollLoop();
  void HousekeepingLoop();

  DaemonOptions options_;
  ServedController* controller_;
  HttpServer* http_;
  DaemonLog* log_;
  std::function<double()> random01_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string stop_reason_;
  int polls_ = 0;
  std::thread poller_;
  std::thread housekeeper_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_DAEMON_H_
