#include "serve/daemon.h"

#include <algorithm>
#include <future>
#include <random>

namespace gitdisc::serve {

std::chrono::milliseconds JitteredInterval(std::chrono::milliseconds interval, double jitter,
                                           double r) {
  r = std::clamp(r, 0.0, 1.0);
  jitter = std::clamp(jitter, 0.0, 0.9);
  double factor = 1.0 - jitter + 2.0 * jitter * r;
  auto ms = static_cast<long long>(static_cast<double>(interval.count()) * factor);
  return std::chrono::milliseconds(std::max<long long>(ms, 1));
}

Daemon::Daemon(DaemonOptions options, ServedController* controller, HttpServer* http,
               DaemonLog* log, std::function<double()> random01)
    : options_(options),
      controller_(controller),
      http_(http),
      log_(log),
      random01_(std::move(random01)) {
  if (!random01_) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    random01_ = [rng] { return std::uniform_real_distribution<double>(0, 1)(*rng); };
  }
}

Daemon::~Daemon() {
  RequestStop("daemon destroyed");
  if (poller_.joinable()) poller_.join();
  if (housekeeper_.joinable()) housekeeper_.join();
}

Status Daemon::Start() {
  GITDISC_RETURN_IF_ERROR(http_->Start());
  controller_->Start();
  poller_ = std::thread([this] { PollLoop(); });
  if (options_.housekeeping) housekeeper_ = std::thread([this] { HousekeepingLoop(); });
  log_->Info("gitdisc serve started",
             {{"poll_interval_ms", std::to_string(options_.poll_interval.count())},
              {"port", std::to_string(http_->port())}});
  return Status::Ok();
}

void Daemon::PollLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto wait = JitteredInterval(options_.poll_interval, options_.jitter, random01_());
    if (cv_.wait_for(lock, wait, [this] { return stop_; })) break;
    ++polls_;
    lock.unlock();
    // Enqueue only: the controller fetches on its own thread.
    controller_->api()->NotifySourceChanged("poll");
    log_->Debug("poll: source check enqueued");
    lock.lock();
  }
}

void Daemon::HousekeepingLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, options_.housekeeping_interval, [this] { return stop_; })) break;
    lock.unlock();
    options_.housekeeping();
    lock.lock();
  }
}

void Daemon::RequestStop(const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return;
  stop_ = true;
  stop_reason_ = why;
  cv_.notify_all();
}

int Daemon::polls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return polls_;
}

bool Daemon::Run() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stop_; });
  }
  if (poller_.joinable()) poller_.join();
  if (housekeeper_.joinable()) housekeeper_.join();
  log_->Info("shutting down: no new work is taken", {{"reason", stop_reason_}});
  http_->Stop();

  // Stop may wait for applies in flight; bound it by the grace period. The
  // stopper thread is detached on timeout: the process is about to exit and
  // the running apply is recovered by the next start (see the header).
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread stopper([c = controller_, done] {
    c->Stop();
    done->set_value();
  });
  if (finished.wait_for(options_.shutdown_grace) == std::future_status::ready) {
    stopper.join();
    log_->Info("stopped: in-flight work finished");
    return true;
  }
  stopper.detach();
  log_->Warn("grace period over with work in flight; it is recovered at the next start",
             {{"grace_ms", std::to_string(options_.shutdown_grace.count())}});
  return false;
}

}  // namespace gitdisc::serve
