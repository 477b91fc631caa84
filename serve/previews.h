// Pull request previews (docs/daemon.md "Pull request previews"): a
// pull_request (GitHub) or merge_request (GitLab) webhook names a head
// commit; the PreviewRunner plans that commit against the live fleet — the
// controller's PlanAt, the same dry run as GET /api/v1/plan?rev= and
// `gitdisc diff` — and reports the outcome as a commit status with context
// "gitdisc/preview" on that head: success "would install motd on 12 VMs,
// upgrade pg on 3", failure when the head is refused (invalid specs, or an
// unverified signature: "not applied as is"), error when it cannot be
// planned (not fetched within the wait: is source.pullRequests on?).
//
// The head must be in the mirror: the runner asks the controller to fetch
// (NotifySourceChanged) and retries PlanAt until the commit is known or the
// wait ends. One worker thread; requests are queued (bounded, one per pull
// request: a newer head replaces a queued older one), so a webhook handler
// only enqueues.
//
// Thread-safety: RequestPreview from any thread; Start/Stop from one.
#ifndef GITDISC_SERVE_PREVIEWS_H_
#define GITDISC_SERVE_PREVIEWS_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "reconciler/controller_api.h"
#include "serve/commit_status.h"
#include "serve/daemon_log.h"
#include "serve/webhooks.h"

namespace gitdisc::serve {

// A pull request head to preview, as the webhook handler read it.
using PreviewRequest = PullRequestHead;

// Where webhook handlers hand preview requests; returns at once.
class PreviewSink {
 public:
  virtual ~PreviewSink() = default;
  virtual void RequestPreview(PreviewRequest request) = 0;
};

// One line for a commit status from a plan (PlanToJson's JSON):
// "would install motd+pg on 12 VMs, upgrade nginx on 3; 1 VM blocked
// (AgentUnavailable), pending there: motd", or "no change: 12 VMs in sync".
std::string PreviewSummary(const nlohmann::json& plan);

struct PreviewOptions {
  std::chrono::milliseconds wait_for_commit{60'000};  // for the fetch to bring the head
  std::chrono::milliseconds retry_every{500};
  size_t max_queue = 64;
};

class PreviewRunner final : public PreviewSink {
 public:
  // post: sends a status (to every configured host); must be quick.
  PreviewRunner(PreviewOptions options, reconciler::ControllerApi* controller,
                std::function<void(const CommitStatusUpdate&)> post, DaemonLog* log);
  ~PreviewRunner() override;

  void Start();
  void Stop();
  void RequestPreview(PreviewRequest request) override;
  // True once nothing is queued or running (tests).
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  void Run();
  CommitStatusUpdate Preview(const PreviewRequest& request);

  PreviewOptions options_;
  reconciler::ControllerApi* controller_;
  std::function<void(const CommitStatusUpdate&)> post_;
  DaemonLog* log_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PreviewRequest> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_PREVIEWS_H_
