// Desired-state assembly (DESIGN.md §1 step 2, §5): the specs of one valid
// revision (a specs::Snapshot) and the fleet's inventory → the planner's
// DesiredState (per-VM union of the selecting sets, conflicts, bundle digests,
// per-set rollout settings) plus, per distinct bundle, the payloads that go on
// its disc. VMs whose unions are equal share one bundle digest and so one image.
//
// Pure apart from reading the snapshot (Git objects, memoised digests); the
// result is a value. Thread-compatible.
#ifndef GITDISC_RECONCILER_DESIRED_H_
#define GITDISC_RECONCILER_DESIRED_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "providers/provider.h"
#include "reconciler/planner.h"
#include "specs/desired_state.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

struct DesiredBuild {
  DesiredState state;
  // bundle digest → payloads on that disc (apply order of the first VM that desires it).
  std::map<std::string, std::vector<specs::DesiredPayload>> bundles;
  // bundle digest → names of the VMs that desire it, sorted.
  std::map<std::string, std::vector<std::string>> bundle_vms;
};

// Fails when the snapshot is not valid (kInvalid with the first diagnostics)
// or a payload digest cannot be computed.
Result<DesiredBuild> AssembleDesired(const specs::Snapshot& snapshot,
                                     const std::vector<VmInfo>& inventory);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_DESIRED_H_
