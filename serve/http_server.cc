#include "serve/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/sha256.h"
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

// A revision argument: a hex id or a ref-like name, bounded, no shell or
// path tricks (it is handed to libgit2's revparse only).
bool ValidRev(const std::string& rev) {
  if (rev.empty() || rev.size() > 200 || rev[0] == '-') return false;
  if (rev.find("..") != std::string::npos) return false;
  for (char c : rev) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '.' || c == '~' || c == '^';
    if (!ok) return false;
  }
  return true;
}

std::string JsonBody(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

HttpServerOptions HttpServerOptions::FromConfig(const ServeConfig& c) {
  HttpServerOptions o;
  o.host = c.listen_host;
  o.port = c.listen_port;
  o.branch = c.source.branch;
  o.webhooks = WebhookSecrets{c.github_secret, c.gitlab_token, c.generic_secret};
  o.api_token = c.api_token;
  return o;
}

struct HttpServer::Impl {
  Impl(HttpServerOptions o, reconciler::ControllerApi* c, MetricsRegistry* r, GitdiscMetrics* m,
       DaemonLog* l)
      : options(std::move(o)),
        controller(c),
        registry(r),
        metrics(m),
        log(l),
        dedup(4096),
        webhooks(options.branch, options.webhooks, &dedup) {}

  void Install();
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
  DeliveryDedup dedup;
  WebhookHandler webhooks;
  httplib::Server server;
  std::thread thread;
};

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
}

void HttpServer::Impl::Hook(WebhookProvider p, const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
  const char* provider = WebhookProviderName(p);
  std::string body;
  bool too_large = false;
  bool read_ok = reader([&](const char* data, size_t n) {
    if (body.size() + n > options.max_body) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  WebhookOutcome o;
  if (too_large || res.status == 413 ||
      (!read_ok && req.get_header_value<uint64_t>("Content-Length") > options.max_body)) {
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
    log->Warn("webhook refused", fields);
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
  std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  bool ok = auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
            ConstantTimeEquals(Sha256Hex(auth.substr(kBearer.size())),
                               Sha256Hex(options.api_token->Reveal()));
  if (!ok) {
    log->Warn("reconcile request refused", {{"remote", req.remote_addr}});
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
  std::string rev = req.has_param("rev") ? req.get_param_value("rev") : "";
  if (req.has_param("rev") && !ValidRev(rev)) {
    res.status = 400;
    res.set_content(JsonBody({{"error", "rev must be a commit id or a ref name"}}), kJson);
    return;
  }
  auto plan = controller->PlanAt(rev);
  if (plan.ok()) {
    res.set_content(JsonBody(*plan), kJson);
    return;
  }
  const Status& st = plan.status();
  switch (st.code()) {
    case Status::Code::kNotFound:
      res.status = 404;
      break;
    case Status::Code::kInvalid:
      res.status = 422;
      break;
    case Status::Code::kUnavailable:
    case Status::Code::kTimeout:
      res.status = 503;
      break;
    default:
      res.status = 500;
  }
  res.set_content(JsonBody({{"error", st.message()}, {"code", Status::CodeName(st.code())}}),
                  kJson);
}

void HttpServer::Impl::Install() {
  // SO_REUSEADDR only: a restart may rebind while old connections linger in
  // TIME_WAIT, but httplib's default SO_REUSEPORT would let a second daemon
  // share the port silently instead of failing.
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(options.max_body);
  server.set_keep_alive_timeout(2);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  const int threads = options.threads > 0 ? options.threads : 8;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    metrics->http_requests.Inc({std::to_string(res.status)});
    log->Debug("http", {{"method", req.method},
                        {"path", req.path},
                        {"status", std::to_string(res.status)},
                        {"remote", req.remote_addr}});
  });
  // Fills a short body for errors httplib produces itself (404 unknown path,
  // 413 before a handler ran, 400 bad request line); handlers' bodies stay.
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string msg = res.status == 404   ? "not found"
                          : res.status == 413 ? "payload too large"
                          : res.status == 405 ? "method not allowed"
                                              : "error";
        res.set_content(msg + "\n", kText);
        return httplib::Server::HandlerResponse::Handled;
      }));

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kText);
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
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
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    Refresh();
    res.set_content(registry->Render(), kPrometheusContentType);
  });
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
                       MetricsRegistry* registry, GitdiscMetrics* metrics, DaemonLog* log)
    : impl_(std::make_unique<Impl>(std::move(options), controller, registry, metrics, log)) {
  impl_->Install();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  if (impl_->thread.joinable()) return Status::Conflict("HTTP server already started");
  const auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) return Status::Unavailable("cannot bind " + o.host + ":0");
  } else if (!impl_->server.bind_to_port(o.host, port)) {
    return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(port) +
                               " (address in use or not available)");
  }
  port_ = port;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs: wait for it so a
  // quick Stop() after Start() cannot leave the loop running forever.
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->log->Info("listening", {{"address", o.host + ":" + std::to_string(port_)}});
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

void HttpServer::RefreshMetrics() { impl_->Refresh(); }

}  // namespace gitdisc::serve
