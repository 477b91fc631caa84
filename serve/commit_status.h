// Commit statuses (docs/daemon.md "Commit statuses"): what the fleet says
// about the commits it knows, in the terms of a Git host's commit status API,
// and the requests that post them to GitHub
// (POST {apiUrl}/repos/OWNER/NAME/statuses/{sha}, Authorization: Bearer) and
// GitLab (POST {apiUrl}/projects/:id/statuses/:sha, PRIVATE-TOKEN).
//
// Context "gitdisc" follows a rollout: pending with "k/N VMs ready" while
// the revision the fleet acts on converges, success "N/N VMs ready" once it
// has, failure when VMs ended Failed/Halted/Conflict/… and nothing is moving
// any more. A revision refused for its signature gets error ("not applied:
// signature: …") and one with invalid specs failure; neither ever gets
// success. Context "gitdisc/preview" carries pull request previews
// (serve/previews.h).
//
// Pure functions and a tracker value used by one thread.
#ifndef GITDISC_SERVE_COMMIT_STATUS_H_
#define GITDISC_SERVE_COMMIT_STATUS_H_

#include <map>
#include <string>
#include <vector>

#include "reconciler/fleet_status.h"
#include "serve/notifier.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

inline constexpr char kRolloutContext[] = "gitdisc";
inline constexpr char kPreviewContext[] = "gitdisc/preview";
inline constexpr size_t kMaxStatusDescription = 140;  // GitHub's limit

enum class CommitState { kPending, kSuccess, kFailure, kError };
const char* GithubStateName(CommitState s);  // pending | success | failure | error
const char* GitlabStateName(CommitState s);  // running | success | failed | failed

struct CommitStatusUpdate {
  std::string sha;  // 40 hex
  CommitState state = CommitState::kPending;
  std::string context = kRolloutContext;
  std::string description;  // at most kMaxStatusDescription bytes (cut on a UTF-8 boundary)
  bool operator==(const CommitStatusUpdate&) const = default;
};

// `text` cut to kMaxStatusDescription bytes, with "…" when cut.
std::string StatusDescription(const std::string& text);

// Every status the fleet implies now (rollout, signature refusal, invalid
// specs); empty before the controller's first scan.
std::vector<CommitStatusUpdate> FleetCommitStatuses(const reconciler::FleetStatus& status);

// Remembers what was reported per (sha, context) and returns only changes.
class CommitStatusTracker {
 public:
  std::vector<CommitStatusUpdate> Changes(const std::vector<CommitStatusUpdate>& now);

 private:
  std::map<std::string, CommitStatusUpdate> last_;
};

OutgoingRequest GithubStatusRequest(const ServeConfig::StatusTarget& target,
                                    const CommitStatusUpdate& update);
OutgoingRequest GitlabStatusRequest(const ServeConfig::StatusTarget& target,
                                    const CommitStatusUpdate& update);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_COMMIT_STATUS_H_
