// TrayEvents: timestamps of one domain's CD-ROM tray events, from libvirt's
// event loop on a thread of its own. libvirt reports a tray "close" when a
// medium insertion completes (QEMU opens the tray, changes the medium and
// closes it), so the first close after a moment marks "disc inserted" — seen
// from outside the process that inserted it.
//
// Thread-safe. Registers libvirt's default event implementation (once per
// process; do it before other libvirt connections that want events).
#ifndef GITDISC_BENCH_SERVE_TRAY_EVENTS_H_
#define GITDISC_BENCH_SERVE_TRAY_EVENTS_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace gitdisc::bench {

class TrayEvents {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  static Result<std::unique_ptr<TrayEvents>> Start(const std::string& uri,
                                                   const std::string& domain_name);
  ~TrayEvents();
  TrayEvents(const TrayEvents&) = delete;
  TrayEvents& operator=(const TrayEvents&) = delete;

  // The first tray close at or after `since`, waiting until `deadline`.
  std::optional<TimePoint> FirstCloseAfter(TimePoint since, TimePoint deadline);
  // Tray events seen so far (opens and closes).
  int count() const;
  // Every event since `since`: "open +12.3 ms, close +40.1 ms" (diagnostics).
  std::string Describe(TimePoint since) const;

  struct State;  // shared with libvirt's callback

 private:
  explicit TrayEvents(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SERVE_TRAY_EVENTS_H_
