// Executor: carries out ONE VM's planned steps (DESIGN.md §7 "Per VM"):
//   eject our stale/leftover discs → ensure + pin the bundle image → deliver it
//   to the VM's host → insert into the planned drive → apply (deterministic op
//   id) → follow until done → eject once the agent released the disc (retry
//   non-forced, then force) → unpin.
// Every step is safe to repeat: insert of the path already in the drive
// succeeds, apply is idempotent by op id in the agent, eject of an empty drive
// succeeds, pins are idempotent. A crash between any two steps leaves a state
// the next pass's observation + plan carries on from.
//
// Side effects go through the Provider, the AgentClient and an ImageSource
// (the ISO cache), all passed in. Thread-safety: one Execute per VM at a
// time; different VMs may run concurrently.
#ifndef GITDISC_RECONCILER_EXECUTOR_H_
#define GITDISC_RECONCILER_EXECUTOR_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "guest/agent_client.h"
#include "providers/provider.h"
#include "reconciler/planner.h"

namespace gitdisc::reconciler {

// Where images come from: the cache, built from the revision when missing.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // Pins `bundle_digest` for `owner` and returns the local image path.
  virtual Result<std::string> Ensure(const std::string& bundle_digest,
                                     const std::string& owner) = 0;
  virtual void Release(const std::string& bundle_digest, const std::string& owner) = 0;
  // Folders holding our images (to recognise our discs in drives).
  virtual std::vector<std::string> Roots() const = 0;
};

struct ExecOptions {
  // How long to follow an apply: the sum of the applied payloads' timeouts
  // plus this margin.
  std::chrono::seconds apply_margin{120};
  int eject_attempts = 3;  // non-forced attempts before forcing
  std::chrono::milliseconds eject_retry_delay{1000};
};

struct ExecResult {
  bool applied = false;  // an apply finished (ok or not)
  bool ok = true;        // every requested payload ok
  int inserts = 0;
  int ejects = 0;
  std::string message;
};

using ProgressFn =
    std::function<void(const std::string& vm, const std::string& step, const std::string& detail)>;

// `agent` may be null only for plans that need no agent (forced ejects after a
// timeout). `apply_timeout` bounds following the operation.
Result<ExecResult> Execute(const VmPlan& plan, Provider& provider, guest::AgentClient* agent,
                           ImageSource& images, std::chrono::seconds apply_timeout,
                           const ExecOptions& options, const ProgressFn& progress);

// Ejects every drive of `key` that holds one of our images: non-forced
// attempts first, then force. Returns how many drives it emptied.
Result<int> EjectOurDiscs(Provider& provider, const std::string& key,
                          const std::vector<std::string>& roots, bool force_now,
                          const ExecOptions& options, const ProgressFn& progress,
                          const std::vector<std::string>& only_drives = {});

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_EXECUTOR_H_
