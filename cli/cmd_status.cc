// `gitdisc status`: the fleet table, from a running daemon (--server URL) or
// observed directly through libvirt (--connect URI). Both modes print the
// same RenderFleetTable text, or the FleetStatus JSON with -o json.
// Exit: 0 printed, 2 could not get the status.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/fleet_session.h"
#include "cli/status_client.h"
#include "reconciler/status_table.h"

namespace gitdisc::cli {
namespace {

int Print(const reconciler::FleetStatus& status, const GlobalOptions& global, Io* io) {
  if (global.json()) {
    io->out << reconciler::ToJson(status).dump(2) << "\n";
  } else {
    io->out << reconciler::RenderFleetTable(status, io->out_is_tty);
  }
  return kExitOk;
}

// --connect mode: observe the fleet directly with a dry pass of the
// controller (reads the specs at --repo/--rev to know what each VM should
// have; acts on nothing).
int StatusFromLibvirt(const GlobalOptions& global, Io* io) {
  auto session = OpenFleetSession(global, /*with_source=*/true);
  if (!session.ok()) {
    io->err << "gitdisc status: " << session.status().message() << "\n";
    return kExitError;
  }
  auto pass = (*session)->controller->RunPass(/*execute=*/false);
  if (!pass.ok()) {
    io->err << "gitdisc status: " << pass.status().message() << "\n";
    return kExitError;
  }
  return Print((*session)->controller->Status(), global, io);
}

}  // namespace

Command StatusCommand() {
  return Command{"status", "print the fleet table from a daemon (--server) or libvirt (--connect)",
                 [](CLI::App* sub, const GlobalOptions* global, Io* io) {
                   auto server = std::make_shared<std::string>();
                   auto timeout = std::make_shared<int>(10);
                   sub->add_option("--server", *server,
                                   "URL of a running `gitdisc serve` (e.g. http://127.0.0.1:9420)");
                   sub->add_option("--timeout", *timeout,
                                   "seconds to wait for the daemon (default 10)")
                       ->check(CLI::Range(1, 3600));
                   return std::function<int()>([server, timeout, global, io] {
                     if (server->empty()) return StatusFromLibvirt(*global, io);
                     auto status = FetchFleetStatus(*server, std::chrono::seconds(*timeout));
                     if (!status.ok()) {
                       io->err << "gitdisc status: " << status.status().message() << "\n";
                       return kExitError;
                     }
                     return Print(*status, *global, io);
                   });
                 }};
}

}  // namespace gitdisc::cli
