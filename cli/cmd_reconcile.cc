// `gitdisc reconcile [--timeout D]`: runs the controller until the fleet
// converges (exit 0), cannot move any further or times out (1), or cannot run
// (2). One progress line per step per VM on stderr; the final plan on stdout
// (-o json: {schemaVersion, converged, plan, status}).
#include <CLI/CLI.hpp>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/byte_size.h"
#include "cli/commands.h"
#include "cli/fleet_session.h"
#include "reconciler/status_table.h"
#include "specs/duration.h"

namespace gitdisc::cli {

Command ReconcileCommand() {
  return Command{
      "reconcile", "apply the plan until the fleet converges, fails or times out",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        auto timeout = std::make_shared<std::string>("30m");
        auto retry = std::make_shared<bool>(false);
        auto cache_max = std::make_shared<std::string>("10GiB");
        sub->add_option("--timeout", *timeout,
                        "give up after this long (90s, 5m, 1h30m; default 30m)");
        sub->add_flag("--retry-failed", *retry,
                      "retry failed payloads with backoff until the timeout (without it, a failure from an earlier run is retried once and a failure in this run is final)");
        sub->add_option("--cache-max", *cache_max,
                        "bound of the image cache: least recently used images no VM has\n"
                        "inserted are evicted beyond it (10GiB, 512MiB, …; default 10GiB)");
        return std::function<int()>([global, io, timeout, retry, cache_max] {
          auto d = specs::ParseDuration(*timeout);
          if (!d.ok()) {
            io->err << "gitdisc reconcile: --timeout: " << d.status().message() << "\n";
            return kExitError;
          }
          auto max = ParseByteSize(*cache_max);
          if (!max.ok()) {
            io->err << "gitdisc reconcile: --cache-max: " << max.status().message() << "\n";
            return kExitError;
          }
          auto mu = std::make_shared<std::mutex>();
          reconciler::ControllerOptions opts;
          opts.retry_failed = *retry;
          opts.retry_earlier_failures = true;
          opts.progress = [io, mu](const std::string& vm, const std::string& step,
                                   const std::string& detail) {
            std::lock_guard<std::mutex> l(*mu);
            io->err << vm << ": " << step << (detail.empty() ? "" : " " + detail) << std::endl;
          };
          auto session = OpenFleetSession(*global, true, opts, *max);
          if (!session.ok()) {
            io->err << "gitdisc reconcile: " << session.status().message() << "\n";
            return kExitError;
          }
          auto& c = *(*session)->controller;
          auto pass = c.RunUntilConverged(std::chrono::steady_clock::now() + *d, global->rev);
          WarnIfFetchFailed(**session, "reconcile", io->err);
          if (!pass.ok()) {
            io->err << "gitdisc reconcile: " << pass.status().message() << "\n";
            return kExitError;
          }
          // A last look, so the table shows the ejects and ledgers of the last steps.
          auto final_pass = c.RunPass(/*execute=*/false, global->rev);
          const reconciler::PassResult& shown = final_pass.ok() ? *final_pass : *pass;
          bool converged = shown.plan.InSync();
          if (global->json()) {
            nlohmann::json j{{"schemaVersion", 1},
                             {"converged", converged},
                             {"status", reconciler::ToJson(c.Status())}};
            io->out << j.dump(2) << "\n";
          } else {
            reconciler::FleetStatus st = c.Status();
            io->out << reconciler::RenderFleetTable(st, io->out_is_tty);
            std::string unmanageable;
            for (const reconciler::VmStatus& v : st.vms) {
              if (v.condition == reconciler::VmCondition::kNotManageable) {
                unmanageable += (unmanageable.empty() ? "" : " ") + v.name;
              }
            }
            if (!unmanageable.empty()) {
              io->out << "not manageable (not waited for; gitdisc vm check says why): "
                      << unmanageable << "\n";
            }
            io->out << (converged     ? "converged"
                        : pass->stuck ? "not converged: blocked"
                                      : "not converged: timed out")
                    << "\n";
          }
          return converged ? kExitOk : kExitFailed;
        });
      }};
}

}  // namespace gitdisc::cli
