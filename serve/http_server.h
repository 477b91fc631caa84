// HttpServer: the daemon's HTTP face (DESIGN.md §8, docs/daemon.md) —
// webhooks, health, metrics, the JSON API and the status page.
//
// Connections, deadlines, limits and worker threads belong to HttpListener
// (serve/http_listener.h): it hands over only whole requests, on two lanes —
// /healthz, /readyz and /metrics on reserved workers, everything else on the
// work lane — so probes keep answering while the webhook and API paths are
// under attack. Each request is then parsed, routed and answered by
// cpp-httplib's request processing (its Server::process_request over a
// stream of the buffered request), never by cpp-httplib's own accept loop
// or thread pool, whose reads are bounded only per recv() call.
//
// It only authenticates, reads and enqueues: webhooks and POST
// /api/v1/reconcile call ControllerApi::NotifySourceChanged / EnqueueAll (or
// PreviewSink::RequestPreview for a pull request) and answer before any work
// is done. Reads (status, page, metrics) take a copy
// of the controller's FleetStatus. Secrets are compared in constant time,
// never logged and never echoed; 401s carry no detail.
//
// Every request's Host header must be one of allowed_hosts (when set): 403
// otherwise. GET /api/v1/plan is guarded by PlanEndpoint (token, rate limit,
// cache). Refused webhook and API calls are logged at most a few times a
// second (the rest are counted in the next line), so a flood cannot flood
// the log.
//
// Lifecycle: Start() binds and serves on the listener's threads; Stop()
// stops accepting, lets running handlers finish and joins. The destructor stops. Start/Stop are called from one thread; the
// handlers run concurrently and use only thread-safe collaborators.
#ifndef GITDISC_SERVE_HTTP_SERVER_H_
#define GITDISC_SERVE_HTTP_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "reconciler/controller_api.h"
#include "serve/daemon_log.h"
#include "serve/delivery_dedup.h"
#include "serve/http_listener.h"
#include "serve/metrics.h"
#include "serve/plan_endpoint.h"
#include "serve/previews.h"
#include "serve/serve_config.h"
#include "serve/webhooks.h"

namespace gitdisc::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 9420;  // 0: any free port; see HttpServer::port()
  std::string branch = "main";
  WebhookSecrets webhooks;
  std::optional<Secret> api_token;  // absent: POST /api/v1/reconcile answers 404
  // Where pull/merge request webhooks go (serve/previews.h); null: such
  // webhooks are answered "ignored" (previews are not configured).
  PreviewSink* previews = nullptr;
  // Host header values accepted; empty: any (see serve/host_check.h).
  std::vector<std::string> allowed_hosts;
  HttpLimits limits;         // limits.max_body: kMaxWebhookBody
  PlanEndpointOptions plan;  // its tokens: api.tokenFile, api.readTokenFile

  static HttpServerOptions FromConfig(const ServeConfig& config);
};

class HttpServer {
 public:
  // All pointers must outlive the server. registry renders what metrics (and
  // anyone else) registered in it. clock drives rate limits and the plan
  // cache (null: the system clock).
  HttpServer(HttpServerOptions options, reconciler::ControllerApi* controller,
             MetricsRegistry* registry, GitdiscMetrics* metrics, DaemonLog* log,
             const Clock* clock = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and starts serving. kUnavailable when the address is in
  // use or cannot be bound.
  Status Start();
  // The bound port (useful with port 0); 0 before Start.
  int port() const { return port_; }
  void Stop();

  // Publishes the controller's current fleet status into the metrics (what a
  // scrape does first). Exposed so the daemon loop can refresh on its tick.
  void RefreshMetrics();
  // Open client connections (tests).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_HTTP_SERVER_H_
