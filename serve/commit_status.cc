#include "serve/commit_status.h"

#include <nlohmann/json.hpp>

#include "base/url_text.h"

namespace gitdisc::serve {
namespace {

using reconciler::VmCondition;

constexpr size_t kMaxRemembered = 512;

std::string Short(const std::string& sha) { return sha.substr(0, 7); }

// Conditions nothing more will happen in without a person: the rollout has
// failed once only these remain. NotManageable is one (the controller does
// not wait for such a VM, docs/reconcile.md); AgentMisbehaving is not (the
// guest is tried again after its backoff).
bool Terminal(VmCondition c) {
  return c == VmCondition::kFailed || c == VmCondition::kHalted || c == VmCondition::kConflict ||
         c == VmCondition::kDriveBusy || c == VmCondition::kError ||
         c == VmCondition::kNotManageable;
}

// The rollout of the revision the fleet acts on.
std::optional<CommitStatusUpdate> Rollout(const reconciler::FleetStatus& s) {
  const std::string& rev = s.source.last_valid_revision;
  if (rev.empty()) return std::nullopt;
  int selected = 0, ready = 0, stuck = 0, moving = 0;
  std::map<std::string, int> bad;  // condition → VMs
  for (const reconciler::VmStatus& v : s.vms) {
    if (v.condition == VmCondition::kNotSelected) continue;
    // A VM still showing another revision has not been planned at this one.
    if (!v.revision.empty() && v.revision != rev) return std::nullopt;
    ++selected;
    if (v.condition == VmCondition::kReady) {
      ++ready;
    } else if (Terminal(v.condition)) {
      ++stuck;
      ++bad[reconciler::VmConditionName(v.condition)];
    } else if (v.condition != VmCondition::kSuspended) {
      ++moving;
    }
  }
  CommitStatusUpdate u;
  u.sha = rev;
  u.description = std::to_string(ready) + "/" + std::to_string(selected) + " VMs ready";
  for (const auto& [cond, n] : bad) u.description += ", " + std::to_string(n) + " " + cond;
  if (stuck > 0 && moving == 0) {
    u.state = CommitState::kFailure;
  } else if (moving == 0) {
    u.state = CommitState::kSuccess;
  } else {
    u.state = CommitState::kPending;
  }
  u.description = StatusDescription(u.description);
  return u;
}

}  // namespace

const char* GithubStateName(CommitState s) {
  switch (s) {
    case CommitState::kPending:
      return "pending";
    case CommitState::kSuccess:
      return "success";
    case CommitState::kFailure:
      return "failure";
    case CommitState::kError:
      return "error";
  }
  return "error";
}

const char* GitlabStateName(CommitState s) {
  switch (s) {
    case CommitState::kPending:
      return "running";
    case CommitState::kSuccess:
      return "success";
    case CommitState::kFailure:
    case CommitState::kError:
      return "failed";
  }
  return "failed";
}

std::string StatusDescription(const std::string& text) {
  if (text.size() <= kMaxStatusDescription) return text;
  const std::string ellipsis = "\u2026";
  size_t cut = kMaxStatusDescription - ellipsis.size();
  // Back off UTF-8 continuation bytes so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + ellipsis;
}

std::vector<CommitStatusUpdate> FleetCommitStatuses(const reconciler::FleetStatus& s) {
  std::vector<CommitStatusUpdate> out;
  if (auto r = Rollout(s)) out.push_back(*r);
  if (!s.source.unverified_revision.empty()) {
    CommitStatusUpdate u;
    u.sha = s.source.unverified_revision;
    u.state = CommitState::kError;
    u.description = StatusDescription(
        "not applied: signature: " + s.source.unverified_reason +
        (s.source.unverified_commit != s.source.unverified_revision
             ? " (commit " + Short(s.source.unverified_commit) + ")"
             : ""));
    out.push_back(u);
  }
  if (!s.source.spec_errors.empty() && !s.source.revision.empty() &&
      s.source.revision != s.source.last_valid_revision &&
      s.source.revision != s.source.unverified_revision) {
    CommitStatusUpdate u;
    u.sha = s.source.revision;
    u.state = CommitState::kFailure;
    u.description = StatusDescription("not applied: specs invalid: " + s.source.spec_errors.front());
    out.push_back(u);
  }
  return out;
}

std::vector<CommitStatusUpdate> CommitStatusTracker::Changes(
    const std::vector<CommitStatusUpdate>& now) {
  std::vector<CommitStatusUpdate> out;
  for (const CommitStatusUpdate& u : now) {
    std::string key = u.sha + " " + u.context;
    auto it = last_.find(key);
    if (it != last_.end() && it->second == u) continue;
    if (last_.size() >= kMaxRemembered) last_.clear();  // at worst one status is sent again
    last_[key] = u;
    out.push_back(u);
  }
  return out;
}

OutgoingRequest GithubStatusRequest(const ServeConfig::StatusTarget& target,
                                    const CommitStatusUpdate& u) {
  OutgoingRequest r;
  r.target = "github_status";
  r.key = "github " + u.sha + " " + u.context;
  r.url = target.api_url + "/repos/" + target.repo + "/statuses/" + u.sha;
  r.headers = {{"Authorization", "Bearer " + std::string(target.token.Reveal())},
               {"Accept", "application/vnd.github+json"},
               {"X-GitHub-Api-Version", "2022-11-28"}};
  r.body = nlohmann::json{{"state", GithubStateName(u.state)},
                          {"context", u.context},
                          {"description", u.description}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.what = std::string("status ") + GithubStateName(u.state) + " " + u.context + " for " +
           Short(u.sha) + " (github " + target.repo + ")";
  return r;
}

OutgoingRequest GitlabStatusRequest(const ServeConfig::StatusTarget& target,
                                    const CommitStatusUpdate& u) {
  OutgoingRequest r;
  r.target = "gitlab_status";
  r.key = "gitlab " + u.sha + " " + u.context;
  r.url = target.api_url + "/projects/" + PercentEncode(target.repo) + "/statuses/" + u.sha;
  r.headers = {{"PRIVATE-TOKEN", std::string(target.token.Reveal())}};
  r.body = nlohmann::json{{"state", GitlabStateName(u.state)},
                          {"name", u.context},
                          {"description", u.description}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.what = std::string("status ") + GitlabStateName(u.state) + " " + u.context + " for " +
           Short(u.sha) + " (gitlab " + target.repo + ")";
  return r;
}

}  // namespace gitdisc::serve
