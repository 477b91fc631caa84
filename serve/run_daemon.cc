#include "serve/run_daemon.h"

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/file_util.h"
#include "base/url_text.h"
#include "providers/qemu_access.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/notifications.h"

namespace gitdisc::serve {
namespace {

void LogConfig(const ServeConfig& config, const DaemonRunOptions& options, DaemonLog& log) {
  log.Info("configuration loaded", {{"config", options.config_path},
                                    {"repo", RedactUrl(config.source.repo)},
                                    {"branch", config.source.branch},
                                    {"state_dir", config.state_dir}});
  for (const auto& [name, secret] :
       {std::pair{"github", &config.github_secret}, std::pair{"gitlab", &config.gitlab_token},
        std::pair{"generic", &config.generic_secret}, std::pair{"api", &config.api_token},
        std::pair{"api-read", &config.read_token}}) {
    if (*secret) log.Info("secret loaded", {{"for", name}, {"file", (*secret)->file()}});
  }
  const ServeConfig::Notify& notify = config.notify;
  if (notify.github_status) {
    log.Info("secret loaded", {{"for", "githubStatus"}, {"file", notify.github_status->token.file()}});
  }
  if (notify.gitlab_status) {
    log.Info("secret loaded", {{"for", "gitlabStatus"}, {"file", notify.gitlab_status->token.file()}});
  }
  for (const auto& t : notify.webhooks) {
    log.Info("secret loaded", {{"for", "alert webhook"}, {"file", t.secret.file()}});
  }
}

reconciler::ControllerOptions DaemonControllerOptions(GitdiscMetrics& metrics, DaemonLog& log) {
  reconciler::ControllerOptions o;
  // The daemon retries failed applies with jittered exponential backoff
  // (docs/reconcile.md); `gitdisc reconcile` does so only with --retry-failed.
  o.retry_failed = true;
  o.hooks.pass_finished = [&metrics](double seconds) {
    metrics.reconcile_duration.Observe(seconds);
  };
  o.hooks.first_insert = [&log](const std::string& vm, const std::string& rev,
                                const std::string& trigger, double seconds) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.0f", seconds * 1000);
    log.Info("first disc of a new revision inserted",
             {{"vm", vm}, {"revision", rev}, {"trigger", trigger}, {"since_trigger_ms", ms}});
  };
  o.progress = [&log](const std::string& vm, const std::string& step, const std::string& detail) {
    log.Info(step, {{"vm", vm}, {"detail", detail}});
  };
  return o;
}

}  // namespace

Status MakeStateDirPrivate(const std::string& state_dir) {
  GITDISC_RETURN_IF_ERROR(MakeDirs(state_dir, 0750));
  struct stat st {};
  if (::stat(state_dir.c_str(), &st) != 0) return Status::FromErrno("stat " + state_dir, errno);
  mode_t mode = st.st_mode & 07770;
  // QEMU opens inserted images by path (libvirt relabels the file, not the
  // folders above it): give the folder to its group, and let new folders
  // inside (isos/) inherit that group.
  QemuIdentity qemu = LocalQemuIdentity();
  if (qemu.known && !QemuCanSearch(qemu, mode, st.st_uid, st.st_gid)) {
    if (::chown(state_dir.c_str(), static_cast<uid_t>(-1), qemu.gid) != 0) {
      return Status::FromErrno("chgrp " + qemu.user + " " + state_dir, errno);
    }
    mode |= S_IXGRP | S_IRGRP | S_ISGID;
  }
  if (mode != (st.st_mode & 07777) && ::chmod(state_dir.c_str(), mode) != 0) {
    return Status::FromErrno("chmod " + state_dir, errno);
  }
  return Status::Ok();
}

int RunDaemon(const ServeConfig& config, const DaemonRunOptions& options,
              const ControllerFactory& make_controller, std::ostream& err) {
  SystemClock clock;
  DaemonLog log(&err, options.log_format, &clock, options.verbose);
  LogConfig(config, options, log);

  // SIGTERM/SIGINT are taken synchronously by a thread of ours (sigwait), so
  // they must be blocked before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the daemon

  if (Status st = MakeStateDirPrivate(config.state_dir); !st.ok()) {
    log.Error("cannot prepare the state folder", {{"error", st.message()}});
    return kDaemonExitError;
  }
  MetricsRegistry registry;
  GitdiscMetrics metrics(&registry);
  auto made = make_controller(config, DaemonControllerOptions(metrics, log),
                              DaemonServices{&metrics, &log, &clock});
  if (!made.ok()) {
    log.Error("cannot start the controller", {{"error", made.status().message()}});
    return kDaemonExitError;
  }
  std::unique_ptr<ServedController> controller = std::move(made).value();

  // Commit statuses, previews and alerts: a watcher and an outbox of their
  // own, reading the controller, never holding it up.
  HttplibPoster poster;
  Notifications notifications({}, config.notify, config.source.repo, controller->api(), &poster,
                              &metrics, &log);
  HttpServerOptions http_options = HttpServerOptions::FromConfig(config);
  if (config.notify.github_status || config.notify.gitlab_status) {
    http_options.previews = &notifications;
  }
  HttpServer http(http_options, controller->api(), &registry, &metrics, &log, &clock);
  DaemonOptions daemon_options;
  daemon_options.poll_interval = config.source.interval;
  daemon_options.shutdown_grace = options.shutdown_grace;
  daemon_options.housekeeping = [c = controller.get()] { c->Housekeep(); };
  Daemon daemon(daemon_options, controller.get(), &http, &log);
  if (Status st = daemon.Start(); !st.ok()) {
    log.Error("cannot start", {{"error", st.message()}});
    return kDaemonExitError;
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
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    log.Info("signal received", {{"signal", name}});
    daemon.RequestStop(name);
  });
  if (!daemon.Run()) {
    // A thread is still inside controller->Stop(): destroying the controller
    // under it would be a use after free. It is released on purpose and the
    // process ends now; the work in flight is recovered at the next start.
    (void)controller.release();
    err.flush();
    std::_Exit(kDaemonExitOk);
  }
  waiter.join();
  notifications.Stop();
  controller.reset();
  log.Info("bye");
  return kDaemonExitOk;
}

}  // namespace gitdisc::serve
