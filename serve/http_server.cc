#include "serve/http_server.h"

#include <httplib.h>
#include <sys/select.h>

#include <nlohmann/json.hpp>

#include "serve/bearer_auth.h"
#include "serve/host_check.h"
#include "serve/rate_limiter.h"
#include "serve/status_page.h"

namespace gitdisc::serve {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kText[] = "text/plain; charset=utf-8";

// Every route and the one method it answers; other methods get 405.
struct Route {
  const char* path;
  const char* method;
};
constexpr Route kRoutes[] = {
    {"/", "GET"},
    {"/healthz", "GET"},
    {"/readyz", "GET"},
    {"/metrics", "GET"},
    {"/api/v1/status", "GET"},
    {"/api/v1/plan", "GET"},
    {"/api/v1/reconcile", "POST"},
    {"/hooks/github", "POST"},
    {"/hooks/gitlab", "POST"},
    {"/hooks/generic", "POST"},
};

std::string JsonBody(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// The reserved lane: the probes and the metrics, read-only methods.
bool HealthLane(const RequestHead& head) {
  bool read = head.method == "GET" || head.method == "HEAD";
  return read && (head.path == "/healthz" || head.path == "/readyz" || head.path == "/metrics");
}

// cpp-httplib's request processing, reached without its accept loop:
// process_request is protected, so a subclass makes it callable.
class Router final : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

// One buffered request (HttpConnection) as cpp-httplib's Stream.
class ConnectionStream final : public httplib::Stream {
 public:
  explicit ConnectionStream(HttpConnection& c) : c_(c) {}
  bool is_readable() const override { return c_.HasUnread(); }
  bool is_writable() const override { return c_.Writable(); }
  ssize_t read(char* ptr, size_t size) override {
    return static_cast<ssize_t>(c_.Read(ptr, size));
  }
  ssize_t write(const char* ptr, size_t size) override {
    return c_.Write(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.remote_addr();
    port = c_.remote_port();
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_addr();
    port = c_.local_port();
  }
  // cpp-httplib looks at the descriptor only to refuse those its select()
  // cannot watch; this stream never selects (the request is in memory, writes
  // poll), so a high descriptor is reported as none.
  socket_t socket() const override { return c_.fd() < FD_SETSIZE ? c_.fd() : INVALID_SOCKET; }

 private:
  HttpConnection& c_;
};

}  // namespace

HttpServerOptions HttpServerOptions::FromConfig(const ServeConfig& c) {
  HttpServerOptions o;
  o.host = c.listen_host;
  o.port = c.listen_port;
  o.branch = c.source.branch;
  o.webhooks = WebhookSecrets{c.github_secret, c.gitlab_token, c.generic_secret};
  o.api_token = c.api_token;
  o.allowed_hosts = c.allowed_hosts ? *c.allowed_hosts : DefaultAllowedHosts(c.listen_host);
  o.plan.api_token = c.api_token;
  o.plan.read_token = c.read_token;
  return o;
}

struct HttpServer::Impl {
  Impl(HttpServerOptions o, reconciler::ControllerApi* c, MetricsRegistry* r, GitdiscMetrics* m,
       DaemonLog* l, const Clock* clk)
      : options(std::move(o)),
        controller(c),
        registry(r),
        metrics(m),
        log(l),
        clock(clk != nullptr ? clk : &system_clock),
        dedup(4096),
        webhooks(options.branch, options.webhooks, &dedup),
        plan(options.plan, controller, clock),
        refusals(2, 10, clock),
        listener(options.limits, ListenerHandlers()) {}

  HttpListener::Handlers ListenerHandlers();
  bool Serve(HttpConnection& c, bool close);
  void Install();
  void InstallCommon(Router& r);
  void InstallHealth(Router& r);
  void Hook(WebhookProvider p, const httplib::Request& req, httplib::Response& res,
            const httplib::ContentReader& reader);
  void Reconcile(const httplib::Request& req, httplib::Response& res);
  void Plan(const httplib::Request& req, httplib::Response& res);
  void Refresh();

  HttpServerOptions options;
  reconciler::ControllerApi* controller;
  MetricsRegistry* registry;
  GitdiscMetrics* metrics;
  DaemonLog* log;
  SystemClock system_clock;
  const Clock* clock;
  DeliveryDedup dedup;
  WebhookHandler webhooks;
  PlanEndpoint plan;
  LogThrottle refusals;  // "webhook refused" and friends: a flood must not flood the log
  Router health;         // /healthz, /readyz, /metrics only (the health lane)
  Router server;         // every route (the work lane)
  HttpListener listener;
  bool started = false;
};

HttpListener::Handlers HttpServer::Impl::ListenerHandlers() {
  HttpListener::Handlers h;
  h.classify = [](const RequestHead& head) {
    return HealthLane(head) ? Lane::kHealth : Lane::kWork;
  };
  h.serve = [this](HttpConnection& c, bool close) { return Serve(c, close); };
  h.refused = [this](Refusal why, const std::string& remote) {
    metrics->http_refused.Inc({RefusalName(why)});
    log->Debug("http connection refused", {{"reason", RefusalName(why)}, {"remote", remote}});
  };
  return h;
}

bool HttpServer::Impl::Serve(HttpConnection& c, bool close) {
  ConnectionStream stream(c);
  bool closed = false;
  Router& router = HealthLane(c.head()) ? health : server;
  bool ok = router.process_request(stream, close, closed, nullptr);
  return ok && !closed;
}

void HttpServer::Impl::Refresh() {
  reconciler::FleetStatus s = controller->Status();
  for (const auto& [condition, count] : s.CountByCondition()) metrics->vms.Set({condition}, count);
  metrics->iso_cache_bytes.Set(static_cast<double>(s.iso_cache_bytes));
  metrics->SetSourceRevision(s.source.last_valid_revision);
  for (const auto& [result, n] : s.counters.applies_total) {
    metrics->payload_applies.SetTotal({result}, static_cast<double>(n));
  }
  metrics->reconciles.SetTotal({}, static_cast<double>(s.counters.reconciles_total));
  metrics->reconcile_errors.SetTotal({}, static_cast<double>(s.counters.reconcile_errors_total));
  metrics->http_connections.Set(listener.connections());
}

void HttpServer::Impl::Hook(WebhookProvider p, const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
  const char* provider = WebhookProviderName(p);
  std::string body;
  bool too_large = false;
  bool read_ok = reader([&](const char* data, size_t n) {
    if (body.size() + n > options.limits.max_body) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  WebhookOutcome o;
  if (too_large || res.status == 413 ||
      (!read_ok && req.get_header_value<uint64_t>("Content-Length") > options.limits.max_body)) {
    o.http_status = 413;
    o.result = "too_large";
    o.reason = "body larger than 1 MiB";
  } else if (!read_ok) {
    o.http_status = 400;
    o.result = "bad_request";
    o.reason = "could not read the body";
  } else {
    WebhookRequest wr{[&req](const char* name) { return req.get_header_value(name); }, body};
    o = webhooks.Handle(p, wr);
    if (o.preview && options.previews == nullptr) {
      o.http_status = 200;
      o.result = "ignored";
      o.reason = "pull request previews are not configured";
      o.preview.reset();
    }
  }
  if (!read_ok || too_large) res.set_header("Connection", "close");

  metrics->webhook_requests.Inc({provider, o.result});
  LogFields fields = {{"provider", provider},
                      {"result", o.result},
                      {"status", std::to_string(o.http_status)},
                      {"remote", req.remote_addr}};
  if (!o.delivery.empty()) fields.emplace_back("delivery", o.delivery);
  if (!o.revision.empty()) fields.emplace_back("revision", o.revision);
  if (o.trigger) {
    controller->NotifySourceChanged(std::string("webhook ") + provider);
    log->Info("webhook accepted: fetch enqueued", fields);
  } else if (o.preview) {
    fields.emplace_back("pull_request", std::to_string(o.preview->number));
    options.previews->RequestPreview(*o.preview);
    log->Info("webhook accepted: preview enqueued", fields);
  } else if (o.http_status >= 400) {
    fields.emplace_back("reason", o.reason);
    refusals.Warn(log, "webhook refused", std::move(fields));
  } else {
    fields.emplace_back("reason", o.reason);
    log->Info("webhook received", fields);
  }

  res.status = o.http_status;
  if (o.http_status == 401) {
    res.set_content("unauthorized\n", kText);  // no detail, by design
    return;
  }
  json j = {{"result", o.result}, {"reason", o.reason}};
  if (!o.delivery.empty()) j["delivery"] = o.delivery;
  res.set_content(JsonBody(j), kJson);
}

void HttpServer::Impl::Reconcile(const httplib::Request& req, httplib::Response& res) {
  if (!options.api_token) {
    res.status = 404;
    res.set_content(JsonBody({{"error", "the API token is not configured (api.tokenFile)"}}),
                    kJson);
    return;
  }
  if (!BearerMatches(req.get_header_value("Authorization"), options.api_token)) {
    refusals.Warn(log, "reconcile request refused", {{"remote", req.remote_addr}});
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"gitdisc\"");
    res.set_content("unauthorized\n", kText);
    return;
  }
  controller->EnqueueAll("api");
  log->Info("reconcile requested through the API", {{"remote", req.remote_addr}});
  res.status = 202;
  res.set_content(JsonBody({{"result", "enqueued"}}), kJson);
}

void HttpServer::Impl::Plan(const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> rev;
  if (req.has_param("rev")) rev = req.get_param_value("rev");
  PlanAnswer a = plan.Handle(req.get_header_value("Authorization"), rev);
  res.status = a.status;
  if (a.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(a.retry_after_seconds));
  if (a.status == 401) {
    refusals.Warn(log, "plan request refused", {{"remote", req.remote_addr}});
    res.set_header("WWW-Authenticate", "Bearer realm=\"gitdisc\"");
    res.set_content("unauthorized\n", kText);
    return;
  }
  if (a.cached) res.set_header("X-Gitdisc-Cache", "hit");
  res.set_content(JsonBody(a.body), kJson);
}

// What both routers share: limits, the Host check, request metrics and the
// short bodies of errors.
void HttpServer::Impl::InstallCommon(Router& r) {
  r.set_payload_max_length(options.limits.max_body);
  r.set_keep_alive_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(options.limits.head_timeout).count());
  r.set_keep_alive_max_count(static_cast<size_t>(options.limits.max_requests_per_connection));
  r.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> host;
    if (req.has_header("Host")) host = req.get_header_value("Host");
    if (HostAllowed(host, options.allowed_hosts)) return httplib::Server::HandlerResponse::Unhandled;
    refusals.Warn(log, "request for another host refused", {{"remote", req.remote_addr}});
    res.status = 403;
    res.set_content("host not allowed\n", kText);
    return httplib::Server::HandlerResponse::Handled;
  });
  r.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics->http_requests.Inc({std::to_string(res.status)});
    log->Debug("http", {{"method", req.method},
                        {"path", req.path},
                        {"status", std::to_string(res.status)},
                        {"remote", req.remote_addr}});
  });
  // Fills a short body for errors httplib produces itself (404 unknown path,
  // 413 before a handler ran, 400 bad request line); handlers' bodies stay.
  r.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg = res.status == 404   ? "not found"
                          : res.status == 413 ? "payload too large"
                          : res.status == 405 ? "method not allowed"
                                              : "error";
        res.set_content(msg + "\n", kText);
        return httplib::Server::HandlerResponse::Handled;
      }));
}

// The probes and the metrics: cheap, no I/O, on both routers.
void HttpServer::Impl::InstallHealth(Router& r) {
  r.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kText);
  });
  r.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    reconciler::FleetStatus s = controller->Status();
    std::string why;
    if (!controller->Ready()) why = "controller has not finished its first pass";
    if (s.source.fetched_unix == 0 && s.source.revision.empty()) why = "source not fetched yet";
    if (why.empty()) {
      res.set_content("ready\n", kText);
    } else {
      res.status = 503;
      res.set_content("not ready: " + why + "\n", kText);
    }
  });
  r.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Refresh();
    res.set_content(registry->Render(), kPrometheusContentType);
  });
}

void HttpServer::Impl::Install() {
  InstallCommon(health);
  InstallHealth(health);
  InstallCommon(server);
  InstallHealth(server);
  server.Get("/api/v1/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(JsonBody(reconciler::ToJson(controller->Status())), kJson);
  });
  server.Get("/api/v1/plan",
             [this](const httplib::Request& req, httplib::Response& res) { Plan(req, res); });
  server.Post("/api/v1/reconcile",
              [this](const httplib::Request& req, httplib::Response& res) { Reconcile(req, res); });
  server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    res.set_content(RenderStatusPage(controller->Status()), "text/html; charset=utf-8");
  });
  const std::pair<const char*, WebhookProvider> hooks[] = {
      {"/hooks/github", WebhookProvider::kGithub},
      {"/hooks/gitlab", WebhookProvider::kGitlab},
      {"/hooks/generic", WebhookProvider::kGeneric},
  };
  for (const auto& [path, provider] : hooks) {
    WebhookProvider p = provider;
    server.Post(path,
                [this, p](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { Hook(p, req, res, reader); });
  }

  // 405 for the methods a known path does not answer.
  for (const Route& r : kRoutes) {
    std::string allow = r.method;
    auto refuse = [allow](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", allow);
      res.set_content("method not allowed\n", kText);
    };
    std::string m = r.method;
    if (m != "GET") server.Get(r.path, refuse);
    if (m != "POST") server.Post(r.path, refuse);
    server.Put(r.path, refuse);
    server.Patch(r.path, refuse);
    server.Delete(r.path, refuse);
  }
}

HttpServer::HttpServer(HttpServerOptions options, reconciler::ControllerApi* controller,
                       MetricsRegistry* registry, GitdiscMetrics* metrics, DaemonLog* log,
                       const Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), controller, registry, metrics, log,
                                   clock)) {
  impl_->Install();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  if (impl_->started) return Status::Conflict("HTTP server already started");
  const auto& o = impl_->options;
  GITDISC_RETURN_IF_ERROR(impl_->listener.Start(o.host, o.port));
  impl_->started = true;
  port_ = impl_->listener.port();
  impl_->log->Info("listening", {{"address", o.host + ":" + std::to_string(port_)}});
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->started) return;
  impl_->listener.Stop();
  impl_->started = false;
}

void HttpServer::RefreshMetrics() { impl_->Refresh(); }

int HttpServer::connections() const { return impl_->listener.connections(); }

}  // namespace gitdisc::serve
