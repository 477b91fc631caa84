#include "serve/notifier.h"

#include <httplib.h>

#include <algorithm>

#include "base/file_util.h"

namespace gitdisc::serve {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

bool Transient(const PostResult& r) {
  return r.http_status == 0 || r.http_status >= 500 || r.http_status == 408 ||
         r.http_status == 429;
}

std::string Outcome(const PostResult& r) {
  return r.http_status == 0 ? "no answer: " + r.error : "HTTP " + std::to_string(r.http_status);
}

void SetTimeouts(httplib::Client& client, std::chrono::milliseconds timeout) {
  auto secs = static_cast<time_t>(timeout.count() / 1000);
  auto usecs = static_cast<time_t>((timeout.count() % 1000) * 1000);
  client.set_connection_timeout(secs, usecs);
  client.set_read_timeout(secs, usecs);
  client.set_write_timeout(secs, usecs);
}

}  // namespace

PostResult HttplibPoster::Post(const OutgoingRequest& request, std::chrono::milliseconds timeout) {
  PostResult out;
  const std::string& url = request.url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    out.error = "not a URL";
    return out;
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(base);
  client.set_follow_location(false);
  SetTimeouts(client, timeout);
  if (url.rfind("https://", 0) == 0) {
    client.enable_server_certificate_verification(true);
    if (PathExists(kCaBundle)) client.set_ca_cert_path(kCaBundle);
  }
  httplib::Headers headers = {{"User-Agent", "gitdisc"}};
  for (const auto& [name, value] : request.headers) headers.emplace(name, value);
  auto res = client.Post(path, headers, request.body, request.content_type);
  if (!res) {
    out.error = httplib::to_string(res.error());
    return out;
  }
  out.http_status = res->status;
  return out;
}

Notifier::Notifier(NotifierOptions options, HttpPoster* poster, Counter requests, DaemonLog* log)
    : options_(options), poster_(poster), requests_(requests), log_(log) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (worker_.joinable() || stop_) return;
  worker_ = std::thread([this] { Run(); });
}

void Notifier::Enqueue(OutgoingRequest request) {
  std::lock_guard<std::mutex> l(mu_);
  if (stop_) {
    requests_.Inc({request.target, "dropped"});
    return;
  }
  auto same = std::find_if(queue_.begin(), queue_.end(), [&](const Item& i) {
    return !request.key.empty() && i.request.key == request.key;
  });
  if (same != queue_.end()) {
    // Keeps its place; one waiting out a backoff is due now with the news.
    same->request = std::move(request);
    same->attempts = 0;
    same->due = std::min(same->due, SteadyClock::now());
  } else {
    if (queue_.size() >= options_.max_queue) {
      requests_.Inc({queue_.front().request.target, "dropped"});
      log_->Warn("notification dropped: the queue is full", {{"what", queue_.front().request.what}});
      queue_.pop_front();
    }
    queue_.push_back(Item{std::move(request), 0, SteadyClock::now()});
  }
  cv_.notify_all();
}

void Notifier::Stop() {
  std::thread worker;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    for (const Item& i : queue_) requests_.Inc({i.request.target, "dropped"});
    queue_.clear();
    worker.swap(worker_);
  }
  cv_.notify_all();
  if (worker.joinable()) worker.join();
}

bool Notifier::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return queue_.empty() && !in_flight_; });
}

std::chrono::milliseconds Notifier::Backoff(int attempts) const {
  auto d = options_.first_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  return std::min(d, options_.max_backoff);
}

void Notifier::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(l);
      continue;
    }
    auto next = std::min_element(queue_.begin(), queue_.end(),
                                 [](const Item& a, const Item& b) { return a.due < b.due; });
    if (next->due > SteadyClock::now()) {
      cv_.wait_until(l, next->due);
      continue;
    }
    Item item = std::move(*next);
    queue_.erase(next);
    in_flight_ = true;
    l.unlock();
    PostResult result = poster_->Post(item.request, options_.timeout);
    l.lock();
    in_flight_ = false;
    Settle(std::move(item), result);
    cv_.notify_all();
  }
}

void Notifier::Settle(Item item, const PostResult& result) {
  const OutgoingRequest& r = item.request;
  ++item.attempts;
  if (result.http_status >= 200 && result.http_status < 300) {
    requests_.Inc({r.target, "ok"});
    log_->Debug("notification sent", {{"what", r.what}, {"attempts", std::to_string(item.attempts)}});
    return;
  }
  bool again = Transient(result) && item.attempts < options_.max_attempts && !stop_;
  requests_.Inc({r.target, again ? "retry" : "failed"});
  LogFields fields = {{"what", r.what},
                      {"target", r.target},
                      {"outcome", Outcome(result)},
                      {"attempts", std::to_string(item.attempts)}};
  if (!again) {
    log_->Warn("notification failed", fields);
    return;
  }
  auto delay = Backoff(item.attempts);
  fields.emplace_back("retry_in_ms", std::to_string(delay.count()));
  log_->Info("notification will be retried", fields);
  // A newer request for the same key may have arrived meanwhile: it wins.
  bool superseded = std::any_of(queue_.begin(), queue_.end(), [&](const Item& i) {
    return !r.key.empty() && i.request.key == r.key;
  });
  if (superseded) return;
  item.due = SteadyClock::now() + delay;
  queue_.push_back(std::move(item));
}

}  // namespace gitdisc::serve
