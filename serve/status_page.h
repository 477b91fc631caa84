// The daemon's status page (GET /): one self-contained HTML document with a
// little inline CSS and no external assets (no scripts, fonts or images), so
// it works offline and under a strict Content-Security-Policy. It shows the
// current and last valid revision, spec errors, rollout progress per
// PayloadSet, a fleet × payload matrix coloured by state, and recent events.
// It refreshes itself every 10 seconds (meta refresh).
//
// Every string that comes from specs, VMs or agents is HTML-escaped.
// Pure functions; thread-safe.
#ifndef GITDISC_SERVE_STATUS_PAGE_H_
#define GITDISC_SERVE_STATUS_PAGE_H_

#include <string>
#include <string_view>

#include "reconciler/fleet_status.h"

namespace gitdisc::serve {

std::string RenderStatusPage(const reconciler::FleetStatus& status);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_STATUS_PAGE_H_
