// `gitdisc serve --config FILE`: the daemon (DESIGN.md §8, docs/daemon.md).
// Thin: load and validate the config (exit 2 with every diagnostic), build the
// real controller (FleetSession: Git source, libvirt provider, ISO cache),
// the metrics, the HTTP server and the Daemon loop; wait for SIGTERM/SIGINT;
// shut down in order; exit 0.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <ostream>

#include "cli/commands.h"
#include "serve/daemon.h"
#include "cli/fleet_session.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/notifications.h"
#include "serve/serve_config.h"

namespace gitdisc::cli {
namespace {

// The reconciler's Controller as the daemon runs it.
class SessionController final : public serve::ServedController {
 public:
  explicit SessionController(std::unique_ptr<FleetSession> s) : s_(std::move(s)) {}
  reconciler::ControllerApi* api() override { return s_->controller.get(); }
  void Start() override { s_->controller->Start(); }
  void Stop() override { s_->controller->Stop(); }

 private:
  std::unique_ptr<FleetSession> s_;
};

int RunServe(const std::string& config_path, const std::string& log_format, int grace_seconds,
             const GlobalOptions& global, Io* io) {
  serve::ServeConfigResult loaded = serve::LoadServeConfig(config_path);
  if (!loaded.config) {
    for (const auto& d : loaded.diagnostics) io->err << d.ToString() << "\n";
    io->err << "gitdisc serve: " << loaded.diagnostics.size() << " error(s) in " << config_path
            << "\n";
    return kExitError;
  }
  const serve::ServeConfig& config = *loaded.config;

  SystemClock clock;
  serve::DaemonLog log(&io->err,
                       log_format == "json" ? serve::LogFormat::kJson : serve::LogFormat::kText,
                       &clock, global.verbose);
  std::vector<std::pair<std::string, std::string>> secrets_in_use;
  for (const auto& [name, secret] :
       {std::pair{"github", &config.github_secret}, std::pair{"gitlab", &config.gitlab_token},
        std::pair{"generic", &config.generic_secret}, std::pair{"api", &config.api_token}}) {
    if (*secret) secrets_in_use.emplace_back(name, (*secret)->file());  // file names only
  }
  log.Info("configuration loaded", {{"config", config_path},
                                    {"repo", config.source.repo},
                                    {"branch", config.source.branch},
                                    {"state_dir", config.state_dir}});
  if (config.notify.github_status) {
    secrets_in_use.emplace_back("githubStatus", config.notify.github_status->token.file());
  }
  if (config.notify.gitlab_status) {
    secrets_in_use.emplace_back("gitlabStatus", config.notify.gitlab_status->token.file());
  }
  for (const auto& t : config.notify.webhooks) {
    secrets_in_use.emplace_back("alert webhook", t.secret.file());
  }
  for (const auto& [name, file] : secrets_in_use) {
    log.Info("secret loaded", {{"for", name}, {"file", file}});
  }

  // SIGTERM/SIGINT are taken synchronously by this thread (sigwait), so they
  // must be blocked before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the daemon

  GlobalOptions session_options = global;
  session_options.repo = config.source.repo;
  session_options.branch = config.source.branch;
  session_options.path = config.source.path == "." ? "" : config.source.path;
  session_options.connect = config.connections;
  session_options.state_dir = config.state_dir;
  session_options.allowed_signers = config.source.verify.allowed_signers_file;
  session_options.gpg_keyring = config.source.verify.gpg_keyring_file;
  session_options.verify_mode = specs::VerifyModeName(config.source.verify.mode);
  session_options.pull_requests = config.source.pull_requests;
  serve::MetricsRegistry registry;
  serve::GitdiscMetrics metrics(&registry);
  reconciler::ControllerOptions controller_options;
  // The daemon retries failed applies with jittered exponential backoff
  // (docs/reconcile.md); `gitdisc reconcile` does so only with --retry-failed.
  controller_options.retry_failed = true;
  controller_options.hooks.pass_finished = [&metrics](double seconds) {
    metrics.reconcile_duration.Observe(seconds);
  };
  controller_options.hooks.first_insert = [&log](const std::string& vm, const std::string& rev,
                                                 const std::string& trigger, double seconds) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.0f", seconds * 1000);
    log.Info("first disc of a new revision inserted",
             {{"vm", vm}, {"revision", rev}, {"trigger", trigger}, {"since_trigger_ms", ms}});
  };
  controller_options.progress = [&log](const std::string& vm, const std::string& step,
                                       const std::string& detail) {
    log.Info(step, {{"vm", vm}, {"detail", detail}});
  };
  auto session =
      OpenFleetSession(session_options, /*with_source=*/true, controller_options);
  if (!session.ok()) {
    log.Error("cannot start the controller", {{"error", session.status().message()}});
    return kExitError;
  }
  // Owned until exit; leaked on a grace timeout (see Daemon::Run).
  auto* controller = new SessionController(std::move(session).value());

  // Commit statuses, previews and alerts: a watcher and an outbox of their
  // own, reading the controller, never holding it up.
  serve::HttplibPoster poster;
  serve::Notifications notifications({}, config.notify, config.source.repo, controller->api(),
                                     &poster, &metrics, &log);
  serve::HttpServerOptions http_options = serve::HttpServerOptions::FromConfig(config);
  if (config.notify.github_status || config.notify.gitlab_status) {
    http_options.previews = &notifications;
  }
  serve::HttpServer http(http_options, controller->api(), &registry, &metrics, &log);
  serve::DaemonOptions daemon_options;
  daemon_options.poll_interval = config.source.interval;
  daemon_options.shutdown_grace = std::chrono::seconds(grace_seconds);
  serve::Daemon daemon(daemon_options, controller, &http, &log);
  if (Status st = daemon.Start(); !st.ok()) {
    log.Error("cannot start", {{"error", st.message()}});
    notifications.Stop();
    delete controller;
    return kExitError;
  }
  notifications.Start();
  if (!config.notify.empty()) {
    log.Info("notifications on",
             {{"github_status", config.notify.github_status ? "yes" : "no"},
              {"gitlab_status", config.notify.gitlab_status ? "yes" : "no"},
              {"alert_webhooks", std::to_string(config.notify.webhooks.size())}});
  }

  std::thread waiter([&daemon, &signals, &log] {
    int sig = 0;
    sigwait(&signals, &sig);
    log.Info("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    daemon.RequestStop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  bool clean = daemon.Run();
  if (!clean) {
    // A thread is still inside the controller's Stop: exit without running
    // destructors under it. Work in flight is recovered at the next start.
    io->err.flush();
    std::_Exit(kExitOk);
  }
  waiter.join();
  notifications.Stop();
  delete controller;
  log.Info("bye");
  return kExitOk;
}

}  // namespace

Command ServeCommand() {
  return Command{
      "serve", "run the daemon: poll, webhooks, API, metrics, status page",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        auto config = std::make_shared<std::string>();
        auto log_format = std::make_shared<std::string>("text");
        auto grace = std::make_shared<int>(90);
        sub->add_option("--config", *config, "daemon config file (YAML); see docs/daemon.md")
            ->required();
        sub->add_option("--log-format", *log_format, "text (default) or json (one object a line)")
            ->check(CLI::IsMember({"text", "json"}));
        sub->add_option("--shutdown-grace", *grace,
                        "seconds to let in-flight applies finish on SIGTERM (default 90)")
            ->check(CLI::Range(0, 86400));
        sub->footer(
            "Exit status: 0 after SIGTERM/SIGINT, 2 for a bad config or when it cannot start.");
        return std::function<int()>(
            [=] { return RunServe(*config, *log_format, *grace, *global, io); });
      }};
}

}  // namespace gitdisc::cli
