// Notifications: everything `gitdisc serve` tells the outside world on its
// own (DESIGN.md §8 `notify`, docs/daemon.md "Notifications"), wired from
// the config:
//   - a watcher thread reads the controller's FleetStatus every tick and
//     turns changes into commit statuses (serve/commit_status.h) for
//     notify.githubStatus / notify.gitlabStatus and into alerts
//     (serve/alerts.h) for notify.webhooks;
//   - pull request previews (serve/previews.h), posted as statuses too;
//   - one Notifier (serve/notifier.h) sends it all with deadlines, retries
//     and gitdisc_notify_requests_total.
// It only reads the controller (Status, PlanAt) and never holds it up.
//
// GitLab refuses a status whose state equals the commit's current one
// (400 "Cannot transition status"), so GitLab gets a status only when its
// state changes; GitHub also gets the new "k/N VMs ready" descriptions.
//
// Thread-safety: RequestPreview from any thread; Start/Stop from one.
#ifndef GITDISC_SERVE_NOTIFICATIONS_H_
#define GITDISC_SERVE_NOTIFICATIONS_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "reconciler/controller_api.h"
#include "serve/alerts.h"
#include "serve/commit_status.h"
#include "serve/daemon_log.h"
#include "serve/metrics.h"
#include "serve/notifier.h"
#include "serve/previews.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

struct NotificationsOptions {
  std::chrono::milliseconds tick{1000};  // how often the fleet status is read
  NotifierOptions notifier;
  PreviewOptions previews;
};

class Notifications final : public PreviewSink {
 public:
  // All pointers must outlive this object.
  Notifications(NotificationsOptions options, ServeConfig::Notify notify, std::string repo,
                reconciler::ControllerApi* controller, HttpPoster* poster,
                GitdiscMetrics* metrics, DaemonLog* log);
  ~Notifications() override;

  void Start();
  void Stop();
  void RequestPreview(PreviewRequest request) override;
  // True once previews and sends are done (tests).
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  void Watch();
  void Tick();
  void PostStatus(const CommitStatusUpdate& update);

  NotificationsOptions options_;
  ServeConfig::Notify notify_;
  std::string repo_;
  reconciler::ControllerApi* controller_;
  DaemonLog* log_;
  Notifier notifier_;
  PreviewRunner previews_;
  CommitStatusTracker statuses_;  // watcher thread only
  AlertTracker alerts_;           // watcher thread only
  std::string delivery_prefix_;
  uint64_t deliveries_ = 0;       // watcher thread only

  std::mutex mu_;  // guards gitlab_state_ (watcher and preview threads), stop_
  std::map<std::string, std::string> gitlab_state_;  // sha+context → state last sent
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread watcher_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_NOTIFICATIONS_H_
