// ControllerParts: the pieces of a Controller (reconciler/controller.h) that
// both its Scanner and its KeyReconciler work with. The Controller owns
// them (or borrows them from its caller) and outlives every user; each is
// safe for concurrent use (see its header for its locking).
#ifndef GITDISC_RECONCILER_CONTROLLER_PARTS_H_
#define GITDISC_RECONCILER_CONTROLLER_PARTS_H_

#include "base/clock.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/agent_guard.h"
#include "reconciler/fleet_state.h"
#include "reconciler/revision_tracker.h"
#include "reconciler/status_writer.h"

namespace gitdisc::reconciler {

struct ControllerParts {
  Provider* provider;
  iso::IsoCache* cache;
  const Clock* clock;
  RevisionTracker* revisions;
  FleetState* state;
  AgentGuard* guard;
  StatusWriter* status;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_CONTROLLER_PARTS_H_
