// The event names an alert webhook may ask for (notify.webhooks[].events;
// docs/daemon.md "Alerts"): the controller's event reasons, the conditions a
// VM moves into, Converged, and Drifted. Kept apart from serve/alerts.h so
// the config parser needs nothing else. Pure functions; thread-safe.
#ifndef GITDISC_SERVE_ALERT_EVENTS_H_
#define GITDISC_SERVE_ALERT_EVENTS_H_

#include <string>
#include <string_view>

namespace gitdisc::serve {

bool IsAlertEvent(std::string_view name);
// The known names, sorted, comma-separated (for config errors).
std::string AlertEventList();

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_ALERT_EVENTS_H_
