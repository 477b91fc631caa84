#include "serve/notifications.h"

#include <algorithm>
#include <random>
#include <utility>

#include "base/sha256.h"

namespace gitdisc::serve {
namespace {

constexpr size_t kMaxGitlabStates = 512;

std::string RandomPrefix() {
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) | rd();
  return HexEncode(&r, sizeof r);
}

}  // namespace

Notifications::Notifications(NotificationsOptions options, ServeConfig::Notify notify,
                             std::string repo, reconciler::ControllerApi* controller,
                             HttpPoster* poster, GitdiscMetrics* metrics, DaemonLog* log)
    : options_(options),
      notify_(std::move(notify)),
      repo_(std::move(repo)),
      controller_(controller),
      log_(log),
      notifier_(options.notifier, poster, metrics->notify_requests, log),
      previews_(options.previews, controller,
                [this](const CommitStatusUpdate& u) { PostStatus(u); }, log),
      delivery_prefix_(RandomPrefix()) {}

Notifications::~Notifications() { Stop(); }

void Notifications::Start() {
  notifier_.Start();
  previews_.Start();
  std::lock_guard<std::mutex> l(mu_);
  if (watcher_.joinable() || stop_) return;
  watcher_ = std::thread([this] { Watch(); });
}

void Notifications::Stop() {
  std::thread watcher;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    watcher.swap(watcher_);
  }
  cv_.notify_all();
  if (watcher.joinable()) watcher.join();
  previews_.Stop();
  notifier_.Stop();
}

void Notifications::RequestPreview(PreviewRequest request) {
  previews_.RequestPreview(std::move(request));
}

bool Notifications::WaitIdle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!previews_.WaitIdle(timeout)) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return notifier_.WaitIdle(std::max(left, std::chrono::milliseconds(0)));
}

void Notifications::Watch() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    l.unlock();
    Tick();
    l.lock();
    cv_.wait_for(l, options_.tick, [this] { return stop_; });
  }
}

void Notifications::Tick() {
  reconciler::FleetStatus status = controller_->Status();
  if (notify_.github_status || notify_.gitlab_status) {
    for (const CommitStatusUpdate& u : statuses_.Changes(FleetCommitStatuses(status))) {
      PostStatus(u);
    }
  }
  std::vector<Alert> alerts = alerts_.Update(status);
  for (const Alert& a : alerts) {
    for (const ServeConfig::AlertTarget& t : notify_.webhooks) {
      if (std::find(t.events.begin(), t.events.end(), a.event) == t.events.end()) continue;
      notifier_.Enqueue(
          AlertRequest(t, a, repo_, delivery_prefix_ + "-" + std::to_string(++deliveries_)));
    }
  }
}

void Notifications::PostStatus(const CommitStatusUpdate& u) {
  if (notify_.github_status) notifier_.Enqueue(GithubStatusRequest(*notify_.github_status, u));
  if (!notify_.gitlab_status) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::string key = u.sha + " " + u.context;
    std::string state = GitlabStateName(u.state);
    auto it = gitlab_state_.find(key);
    if (it != gitlab_state_.end() && it->second == state) return;
    if (gitlab_state_.size() >= kMaxGitlabStates) gitlab_state_.clear();
    gitlab_state_[key] = state;
  }
  notifier_.Enqueue(GitlabStatusRequest(*notify_.gitlab_status, u));
}

}  // namespace gitdisc::serve
