// HttpServer: the daemon's HTTP face (DESIGN.md §8, docs/daemon.md) on
// cpp-httplib — webhooks, health, metrics, the JSON API and the status page.
//
// It only authenticates, reads and enqueues: webhooks and POST
// /api/v1/reconcile call ControllerApi::NotifySourceChanged / EnqueueAll (or
// PreviewSink::RequestPreview for a pull request) and answer before any work
// is done. Reads (status, page, metrics) take a copy
// of the controller's FleetStatus. Secrets are compared in constant time,
// never logged and never echoed; 401s carry no detail.
//
// Lifecycle: Start() binds and serves on its own threads (a pool of
// `threads` workers); Stop() stops accepting, lets running handlers finish and
// joins. The destructor stops. Start/Stop are called from one thread; the
// handlers run concurrently and use only thread-safe collaborators.
#ifndef GITDISC_SERVE_HTTP_SERVER_H_
#define GITDISC_SERVE_HTTP_SERVER_H_

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "reconciler/controller_api.h"
#include "serve/daemon_log.h"
#include "serve/delivery_dedup.h"
#include "serve/metrics.h"
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
  size_t max_body = kMaxWebhookBody;
  int threads = 8;

  static HttpServerOptions FromConfig(const ServeConfig& config);
};

class HttpServer {
 public:
  // All pointers must outlive the server. registry renders what metrics (and
  // anyone else) registered in it.
  HttpServer(HttpServerOptions options, reconciler::ControllerApi* controller,
             MetricsRegistry* registry, GitdiscMetrics* metrics, DaemonLog* log);
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_HTTP_SERVER_H_
