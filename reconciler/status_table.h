// RenderFleetTable: the text of `gitdisc status` — the same for `--server URL`
// (the daemon's /api/v1/status) and `--connect URI` (observed directly), so
// people see one format wherever the status comes from.
//
// Layout: a source line (branch, revision, last valid revision, spec errors),
// one row per VM (name, host, condition, applied/desired payloads, reason,
// message) and one row per PayloadSet (ready/selected, failed, in flight,
// rollout state). Colour (ANSI) only when asked, i.e. on a TTY.
//
// Pure function; thread-safe.
#ifndef GITDISC_RECONCILER_STATUS_TABLE_H_
#define GITDISC_RECONCILER_STATUS_TABLE_H_

#include <string>

#include "reconciler/fleet_status.h"

namespace gitdisc::reconciler {

std::string RenderFleetTable(const FleetStatus& status, bool color);

// The colour class of a condition: "ok", "busy", "warn", "bad" or "idle";
// shared by the table and the status page.
const char* ConditionTone(VmCondition c);
// The tone of a set's rollout state, in the same vocabulary.
const char* RolloutTone(RolloutState s);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_STATUS_TABLE_H_
