// RevisionDiff: what changes between two revisions of the specs, per
// PayloadSet and payload, without looking at any VM (`gitdisc diff --base`).
//
// Payloads are matched by (set name, payload name). A payload whose version
// changed is an upgrade (^); one whose identity digest changed while its
// version did not is "changed without a version bump" (~, with a warning: it
// will be re-applied, and people reading versions will not see why); one
// whose identity is unchanged but whose timeout/after/source changed is a
// settings change (~, not re-applied). Sets report selector, rollout, suspend
// and payload order changes.
//
// DiffSpecs is a pure function (digests come through callbacks so tests need
// no Git); Render* are pure too. Thread-safe.
#ifndef GITDISC_SPECS_REVISION_DIFF_H_
#define GITDISC_SPECS_REVISION_DIFF_H_

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

struct PayloadChange {
  enum class Kind { kAdded, kRemoved, kUpgraded, kChanged, kSettings };
  Kind kind = Kind::kChanged;
  std::string name;
  std::string old_version, new_version;  // "" on the side where it does not exist
  std::string old_digest, new_digest;    // identity digests
  // What differs, for people: "content", "run", "env", "reboot", "timeout 10m → 5m", …
  std::vector<std::string> details;
  bool operator==(const PayloadChange&) const = default;
};

struct SetChange {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind = Kind::kChanged;
  std::string name;
  std::string old_selector, new_selector;  // rendered (RenderSelector); equal when unchanged
  std::string old_rollout, new_rollout;    // rendered (RenderRollout)
  bool old_suspend = false, new_suspend = false;
  bool order_changed = false;  // same payloads, different order
  std::vector<PayloadChange> payloads;
  bool operator==(const SetChange&) const = default;
};

struct RevisionDiff {
  std::string base, revision;   // full SHAs (or labels in tests)
  std::vector<SetChange> sets;  // sorted by set name
  std::vector<std::string> warnings;
  bool empty() const { return sets.empty(); }
};

// Identity and content digests of a payload on one side.
struct PayloadDigests {
  std::string digest;
  std::string content_digest;
};
using DigestFn = std::function<Result<PayloadDigests>(const Payload&)>;

// Compares two valid revisions' sets. Fails only when a digest cannot be
// computed.
Result<RevisionDiff> DiffSpecs(const std::vector<PayloadSet>& base_sets,
                               const DigestFn& base_digest, const std::vector<PayloadSet>& rev_sets,
                               const DigestFn& rev_digest);

// "matchLabels{env=prod,role=web} matchExpressions{tier In (edge,frontend)} names{web-*}"
std::string RenderSelector(const Selector& selector);
// "maxParallel=25% maxFailures=0 canary=1"
std::string RenderRollout(const Rollout& rollout);

// Text for people: one line per change with +, -, ^, ~ markers, aligned; a
// summary line first; warnings last ("warning: …").
std::string RenderDiffText(const RevisionDiff& diff);
// JSON for programs, {"schemaVersion": 1, …}; see docs/git-source.md.
std::string RenderDiffJson(const RevisionDiff& diff);

const char* PayloadChangeKindName(PayloadChange::Kind kind);  // "added", "upgraded", …
const char* SetChangeKindName(SetChange::Kind kind);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_REVISION_DIFF_H_
