// HttpListener: the daemon's front door. It owns the listening socket, every
// client connection and the worker threads, and hands a handler only whole
// requests — so no client, however slow or many, can hold the threads that
// answer /healthz (DESIGN.md §8, §11; docs/security.md "The network").
//
// One loop thread (epoll) accepts and reads. For each connection it:
//   - admits it only under the bounds: at most max_connections in total and
//     max_per_client per client address (IPv4 address, IPv6 /64). A client
//     over its share is refused at once (503). When the total is reached, the
//     connection that has waited longest for its head, of the client holding
//     the most connections, is closed to make room — so a flood of idle
//     connections from a few addresses cannot lock out a new client;
//   - reads the request head under one deadline for the whole head
//     (head_timeout, counted from when the listener started waiting, however
//     the bytes trickle in) and the head limits (serve/request_head.h);
//   - answers by itself, and closes: 431 (head too large), 400 (malformed),
//     411 (POST, PUT or PATCH without Content-Length, or any
//     Transfer-Encoding: the listener reads no chunked bodies), 413 (Content-Length over max_body), 408 (a
//     deadline passed), 503 (no room: body budget or queue full);
//   - reads the body (Content-Length bytes) under its own deadline
//     (body_timeout), within a budget of body bytes held across all
//     connections (body_budget);
//   - queues the complete request on its lane: kHealth (reserved workers for
//     the probes and metrics) or kWork (everything else). A full queue sheds
//     the request with 503 instead of queueing forever.
// A worker calls the lane's handler, which writes the response (bounded by
// write_timeout) and says whether the connection may stay open; kept-alive
// connections go back to the loop for their next request.
//
// Thread-safety: Start/Stop from one thread; handlers run on the worker
// threads (several at once) and the refusal callback on the loop thread.
#ifndef GITDISC_SERVE_HTTP_LISTENER_H_
#define GITDISC_SERVE_HTTP_LISTENER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "serve/http_connection.h"
#include "serve/request_head.h"

namespace gitdisc::serve {

struct HttpLimits {
  int max_connections = 256;  // open client connections in total
  int max_per_client = 32;    // per client address
  std::chrono::milliseconds head_timeout{10000};   // whole head, however it trickles
  std::chrono::milliseconds body_timeout{10000};   // whole body
  std::chrono::milliseconds write_timeout{10000};  // whole response
  HeadLimits head;
  size_t max_body = 1 << 20;       // Content-Length above this: 413
  size_t body_budget = 32 << 20;   // body bytes held across all connections
  int max_requests_per_connection = 100;
  int work_threads = 4;    // webhooks, API, status page
  int work_queue = 64;     // requests waiting for a work thread; beyond: 503
  int health_threads = 2;  // /healthz, /readyz, /metrics only
  int health_queue = 64;
};

enum class Lane { kHealth, kWork };

// Why the listener answered or closed a connection by itself (metrics label).
enum class Refusal {
  kPerClient,      // 503: the client holds max_per_client connections
  kEvicted,        // closed to make room for a new connection
  kHeadTimeout,    // 408
  kBodyTimeout,    // 408
  kHeadTooLarge,   // 431
  kBadRequest,     // 400
  kLengthRequired, // 411
  kBodyTooLarge,   // 413
  kShed,           // 503: queue full or body budget used up
};
const char* RefusalName(Refusal r);

class HttpListener {
 public:
  struct Handlers {
    // Which lane a request goes to; from its head only.
    std::function<Lane(const RequestHead&)> classify;
    // Serves the current request of `c` (head and body are buffered) and
    // writes the response. Returns true when the connection may serve
    // another request. `close` asks the handler to close after this one.
    std::function<bool(HttpConnection& c, bool close)> serve;
    // A connection the listener answered or closed by itself (quick; runs
    // on the loop thread).
    std::function<void(Refusal why, const std::string& remote)> refused;
  };

  HttpListener(HttpLimits limits, Handlers handlers);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds host:port (port 0: any free port) and starts the loop and workers.
  // kUnavailable when the address cannot be bound (in use, not local).
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  // Stops accepting, closes waiting connections, drops queued requests, lets
  // requests being served finish, joins every thread. Idempotent.
  void Stop();

  // Open connections now (loop + queued + being served).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

// The accounting key of a peer address: the IPv4 address (also when mapped
// into IPv6), or the first 64 bits of an IPv6 address ("2001:db8:1:2::/64").
std::string ClientKey(const std::string& numeric_address);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_HTTP_LISTENER_H_
