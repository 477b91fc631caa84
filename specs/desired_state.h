// Desired state of one VM: the union of the payloads of every PayloadSet that
// selects it (DESIGN.md §3), in the order they must be applied, or the
// conflicts that keep it from having one.
//
// - Suspended sets select nothing.
// - A payload named by several selecting sets is one payload when all of them
//   give it the same identity digest; the Payload value kept is the first set's
//   (sets in the order given, payloads in list order), its `sets` lists every
//   set naming it, and the `after` lists of all of them apply.
// - Different digests for one name are a conflict; so is a cycle that `after`
//   lists form only across sets (each set alone is acyclic, the parser checks).
//   A conflicted VM gets no payloads: nothing is applied to it.
// - Apply order: topological over `after`, ties broken by first appearance
//   (set order, then payload order), so the result is stable.
//
// Digests are computed elsewhere (specs/payload_digest.h needs the tree) and
// passed in. Pure functions of their inputs; thread-safe.
#ifndef GITDISC_SPECS_DESIRED_STATE_H_
#define GITDISC_SPECS_DESIRED_STATE_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "specs/selector.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

struct DesiredPayload {
  std::string name;
  std::string digest;
  Payload payload;                // as the first set naming it wrote it
  std::vector<std::string> sets;  // selecting sets naming it, in set order
  bool operator==(const DesiredPayload&) const = default;
};

struct PayloadConflict {
  std::string payload;            // name of the payload in conflict
  std::vector<std::string> sets;  // sets involved, in set order
  std::string message;            // for people: which sets disagree, and how
  bool operator==(const PayloadConflict&) const = default;
};

struct VmDesiredState {
  std::vector<std::string> sets;         // selecting (not suspended) sets, in set order
  std::vector<DesiredPayload> payloads;  // apply order; empty when conflicted
  std::vector<PayloadConflict> conflicts;
  bool conflicted() const { return !conflicts.empty(); }
  bool operator==(const VmDesiredState&) const = default;
};

// The identity digest of `payload` as `set` defines it.
using DigestLookup =
    std::function<Result<std::string>(const PayloadSet& set, const Payload& payload)>;
// Digests by (set name, payload name).
using DigestMap = std::map<std::pair<std::string, std::string>, std::string>;

// Fails only when the lookup fails (its Status is returned as is).
Result<VmDesiredState> DesiredStateFor(const std::vector<PayloadSet>& sets,
                                       std::string_view vm_name, const Labels& labels,
                                       const DigestLookup& digest);
// As above; a (set, payload) missing from `digests` fails with kNotFound.
Result<VmDesiredState> DesiredStateFor(const std::vector<PayloadSet>& sets,
                                       std::string_view vm_name, const Labels& labels,
                                       const DigestMap& digests);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_DESIRED_STATE_H_
