// `gitdisc serve --config FILE`: the daemon (DESIGN.md §8, docs/daemon.md).
// Thin: load and validate the config (exit 2 with every diagnostic), then
// serve::RunDaemon with a factory for the real controller (FleetSession: Git
// source, libvirt provider, ISO cache), which only cli/ knows how to build.
#include <CLI/CLI.hpp>
#include <ostream>

#include "base/file_util.h"
#include "cli/commands.h"
#include "cli/fleet_session.h"
#include "serve/cache_keeper.h"
#include "serve/run_daemon.h"
#include "serve/serve_config.h"

namespace gitdisc::cli {
namespace {

// The reconciler's Controller as the daemon runs it, with its housekeeping:
// the image cache kept within cache.maxBytes and unused remote pool images
// collected after cache.poolGrace (serve::CacheKeeper).
class SessionController final : public serve::ServedController {
 public:
  SessionController(std::unique_ptr<FleetSession> s, const serve::ServeConfig& config,
                    const serve::DaemonServices& services)
      : s_(std::move(s)),
        pools_(s_->provider.get(), {JoinPath(config.state_dir, "pool-unused.json"),
                                    config.cache.pool_grace, services.clock}),
        keeper_(s_->cache.get(), &pools_, s_->controller.get(), services.metrics, services.log) {}
  reconciler::ControllerApi* api() override { return s_->controller.get(); }
  void Start() override { s_->controller->Start(); }
  void Stop() override { s_->controller->Stop(); }
  void Housekeep() override { keeper_.RunOnce(); }

 private:
  std::unique_ptr<FleetSession> s_;
  reconciler::PoolCollector pools_;
  serve::CacheKeeper keeper_;
};

Result<std::unique_ptr<serve::ServedController>> OpenController(
    const serve::ServeConfig& config, const GlobalOptions& global,
    reconciler::ControllerOptions options, const serve::DaemonServices& services) {
  GlobalOptions o = global;
  o.repo = config.source.repo;
  o.branch = config.source.branch;
  o.path = config.source.path == "." ? "" : config.source.path;
  o.connect = config.connections;
  o.state_dir = config.state_dir;
  o.artifact_roots = config.artifacts.file_roots;
  o.allow_http_artifacts = config.artifacts.allow_http;
  o.allowed_signers = config.source.verify.allowed_signers_file;
  o.gpg_keyring = config.source.verify.gpg_keyring_file;
  o.verify_mode = specs::VerifyModeName(config.source.verify.mode);
  o.pull_requests = config.source.pull_requests;
  GITDISC_ASSIGN_OR_RETURN(auto session, OpenFleetSession(o, /*with_source=*/true, options,
                                                           config.cache.max_bytes));
  return std::unique_ptr<serve::ServedController>(
      std::make_unique<SessionController>(std::move(session), config, services));
}

int RunServe(const std::string& config_path, const std::string& log_format, int grace_seconds,
             const GlobalOptions& global, Io* io) {
  serve::ServeConfigResult loaded = serve::LoadServeConfig(config_path);
  if (!loaded.config) {
    for (const auto& d : loaded.diagnostics) io->err << d.ToString() << "\n";
    io->err << "gitdisc serve: " << loaded.diagnostics.size() << " error(s) in " << config_path
            << "\n";
    return kExitError;
  }
  serve::DaemonRunOptions options;
  options.config_path = config_path;
  options.log_format = log_format == "json" ? serve::LogFormat::kJson : serve::LogFormat::kText;
  options.verbose = global.verbose;
  options.shutdown_grace = std::chrono::seconds(grace_seconds);
  return serve::RunDaemon(
      *loaded.config, options,
      [&global](const serve::ServeConfig& config, reconciler::ControllerOptions o,
                const serve::DaemonServices& services) {
        return OpenController(config, global, std::move(o), services);
      },
      io->err);
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
