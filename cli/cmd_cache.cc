// `gitdisc cache ls` and `gitdisc cache gc [--dry-run] [--cache-max SIZE]
// [--pool-grace D]`: the image cache (STATE/isos) and the images uploaded to
// the `gitdisc` pools of the --connect hosts; what they do is in
// cache_report.h. gc reads the specs (--repo …) for the bundles desired now.
#include <CLI/CLI.hpp>
#include <memory>

#include "base/byte_size.h"
#include "base/duration.h"
#include "base/file_util.h"
#include "cli/cache_report.h"
#include "cli/commands.h"
#include "cli/fleet_session.h"

namespace gitdisc::cli {
namespace {

struct CacheFlags {
  std::string max = "10GiB";
  std::string grace = "1h";
  bool dry_run = false;
};

int RunLs(const GlobalOptions& global, const CacheFlags& f, Io* io) {
  auto max = ParseByteSize(f.max);
  if (!max.ok()) {
    io->err << "gitdisc cache: --cache-max: " << max.status().message() << "\n";
    return kExitError;
  }
  auto cache = iso::IsoCache::Open({JoinPath(global.StateDir(), "isos"), *max});
  if (!cache.ok()) {
    io->err << "gitdisc cache ls: " << cache.status().message() << "\n";
    return kExitError;
  }
  // Pools exist only on remote hosts: without --connect there is none to list.
  std::unique_ptr<FleetSession> session;
  if (!global.connect.empty()) {
    auto s = OpenFleetSession(global, false);
    if (!s.ok()) {
      io->err << "gitdisc cache ls: " << s.status().message() << "\n";
      return kExitError;
    }
    session = std::move(s).value();
  }
  return RunCacheLs(**cache, session ? session->provider.get() : nullptr, global.json(), *io);
}

int RunGc(const GlobalOptions& global, const CacheFlags& f, Io* io) {
  auto max = ParseByteSize(f.max);
  auto grace = ParseDuration(f.grace);
  if (!max.ok() || !grace.ok()) {
    io->err << "gitdisc cache gc: "
            << (!max.ok() ? "--cache-max: " + max.status().message()
                          : "--pool-grace: " + grace.status().message())
            << "\n";
    return kExitError;
  }
  auto session = OpenFleetSession(global, true, {}, *max);
  if (!session.ok()) {
    io->err << "gitdisc cache gc: " << session.status().message() << "\n";
    return kExitError;
  }
  auto pass = (*session)->controller->RunPass(/*execute=*/false, global.rev);
  if (!pass.ok()) {
    io->err << "gitdisc cache gc: " << pass.status().message() << "\n";
    return kExitError;
  }
  std::set<std::string> desired;
  for (const auto& [digest, vms] : pass->desired.bundle_vms) desired.insert(digest);
  reconciler::PoolCollector pools(
      (*session)->provider.get(),
      {JoinPath(global.StateDir(), "pool-unused.json"),
       std::chrono::duration_cast<std::chrono::seconds>(*grace), &(*session)->clock});
  return RunCacheGc(*(*session)->cache, pools, desired, f.dry_run, global.json(), *io);
}

}  // namespace

Command CacheCommand() {
  return Command{
      "cache", "list and collect the image cache and the images in remote pools",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        auto flags = std::make_shared<CacheFlags>();
        sub->add_option("--cache-max", flags->max,
                        "bound of the image cache (10GiB, 512MiB, …; default 10GiB)");
        CLI::App* ls = sub->add_subcommand(
            "ls",
            "the cached images (size, last use, pinning VMs) and the pool images of\n"
            "the --connect hosts. Exit 0, 2 error.");
        CLI::App* gc = sub->add_subcommand(
            "gc",
            "evict unpinned images beyond the bound (least recently used first) and\n"
            "delete pool images no desired bundle used for --pool-grace. Exit 0, 2 error.");
        gc->add_option("--pool-grace", flags->grace,
                       "how long a pool image must be unused before it goes (default 1h)");
        gc->add_flag("--dry-run", flags->dry_run, "say what would go, delete nothing");
        return std::function<int()>([=]() -> int {
          if (ls->parsed()) return RunLs(*global, *flags, io);
          if (gc->parsed()) return RunGc(*global, *flags, io);
          io->err << "gitdisc cache: choose ls or gc\n";
          return kExitError;
        });
      }};
}

}  // namespace gitdisc::cli
