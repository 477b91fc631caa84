// Notifier: the daemon's outbox for requests to other services — commit
// statuses on GitHub/GitLab and alert webhooks (docs/daemon.md
// "Notifications"). Reconciliation never waits for it: Enqueue only queues
// and returns; one worker thread sends, each attempt under a deadline, and
// retries what may pass (no answer, 5xx, 408, 429) with exponential backoff
// up to a number of attempts. Other 4xx answers are permanent (a bad token,
// an unknown repository) and are not retried.
//
// The queue is bounded; when full, the oldest queued request is dropped. A
// request with the same key as one still queued replaces it, so a burst of
// status changes for one commit sends only the newest.
//
// Every attempt's outcome is counted in gitdisc_notify_requests_total
// {target, result=ok|retry|failed|dropped}. Headers may carry tokens: they
// are never logged; logs name the request's `what` and the HTTP status only.
//
// Thread-safety: Enqueue, WaitIdle and Stop may be called from any thread.
#ifndef GITDISC_SERVE_NOTIFIER_H_
#define GITDISC_SERVE_NOTIFIER_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "serve/daemon_log.h"
#include "serve/metrics.h"

namespace gitdisc::serve {

struct OutgoingRequest {
  std::string target;  // metric label: github_status | gitlab_status | webhook
  std::string key;     // a newer request with the same key replaces a queued one
  std::string url;     // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;  // may hold a token: never logged
  std::string body;
  std::string content_type = "application/json";
  std::string what;  // for logs, never secret: "status success for 1a2b3c4 (github)"
};

struct PostResult {
  int http_status = 0;  // 0: no answer (connection, TLS, deadline)
  std::string error;    // why there was no answer
};

// One HTTP POST attempt. Implementations are safe for concurrent use.
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual PostResult Post(const OutgoingRequest& request, std::chrono::milliseconds timeout) = 0;
};

// The real poster on cpp-httplib's client: connect, write and read each
// bounded by the timeout; https certificates verified against the system CA
// bundle; redirects not followed (a redirect must not carry a token
// elsewhere).
class HttplibPoster final : public HttpPoster {
 public:
  PostResult Post(const OutgoingRequest& request, std::chrono::milliseconds timeout) override;
};

struct NotifierOptions {
  size_t max_queue = 1000;
  int max_attempts = 6;
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds timeout{10'000};  // per attempt
};

class Notifier {
 public:
  // poster and log must outlive the notifier; requests counts attempts by
  // {target, result}.
  Notifier(NotifierOptions options, HttpPoster* poster, Counter requests, DaemonLog* log);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Start();
  // Queues a request and returns at once.
  void Enqueue(OutgoingRequest request);
  // Stops the worker after the attempt in flight (if any); what is still
  // queued is dropped (and counted).
  void Stop();
  // True once nothing is queued or in flight (tests), false at the deadline.
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  struct Item {
    OutgoingRequest request;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void Run();
  // The outcome of one attempt: done (ok or permanent) or back in the queue.
  void Settle(Item item, const PostResult& result);
  std::chrono::milliseconds Backoff(int attempts) const;

  NotifierOptions options_;
  HttpPoster* poster_;
  Counter requests_;
  DaemonLog* log_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool in_flight_ = false;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_NOTIFIER_H_
