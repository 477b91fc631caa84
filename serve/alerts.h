// Alerts (docs/daemon.md "Alerts"): the controller's events, as the status
// page lists them, posted to the webhooks of notify.webhooks that asked for
// their reason — as JSON signed like the generic receiver expects it
// (X-Signature: sha256=<hex HMAC-SHA256(secret, body)>, X-Delivery-Id), with
// a Slack-compatible "text" field so the URL can be a Slack or Teams
// incoming webhook.
//
// Event names are the controller's event reasons (ApplyFailed, StepFailed,
// SpecInvalid, SignatureUnverified, …), the VM conditions a VM moves into
// (Failed, Halted, Conflict, …), and Converged, which the tracker adds when
// the fleet converges on a new revision. Drifted is accepted for the drift
// checks of DESIGN.md §3.
//
// AlertTracker is a value used by one thread (the notification watcher).
#ifndef GITDISC_SERVE_ALERTS_H_
#define GITDISC_SERVE_ALERTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reconciler/fleet_status.h"
#include "serve/alert_events.h"
#include "serve/notifier.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

struct Alert {
  std::string event;  // the reason, e.g. "ApplyFailed"
  std::string type;   // "Normal" or "Warning"
  std::string object;  // "vm/web-1", "set/web", "source", "fleet"
  std::string message;
  int64_t time_unix = 0;
  std::string revision;  // the revision the fleet acts on
};

class AlertTracker {
 public:
  // The events recorded since the previous call (by FleetStatus::events_total;
  // events that fell out of the status's window are lost, and counted in
  // `missed`), then Converged when the fleet newly converged on a revision.
  std::vector<Alert> Update(const reconciler::FleetStatus& status);
  uint64_t missed() const { return missed_; }

 private:
  uint64_t seen_ = 0;
  uint64_t missed_ = 0;
  std::string converged_on_;
};

// The signed request for one alert to one target. `delivery` makes the
// X-Delivery-Id unique (the receiver de-duplicates on it).
OutgoingRequest AlertRequest(const ServeConfig::AlertTarget& target, const Alert& alert,
                             const std::string& repo, const std::string& delivery);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_ALERTS_H_
