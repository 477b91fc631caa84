#include "cli/fleet_session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "base/file_util.h"
#include "cli/source_options.h"
#include "providers/provider_factory.h"
#include "serve/run_daemon.h"

namespace gitdisc::cli {

// The fleet commands speak the reconciler's vocabulary throughout.
using namespace reconciler;  // NOLINT(google-build-using-namespace)

namespace {

const char* Color(bool on, const char* code) { return on ? code : ""; }

std::string Short(const std::string& d) { return d.substr(0, 12); }

}  // namespace

std::vector<std::string> ConnectUris(const GlobalOptions& global) {
  if (!global.connect.empty()) return global.connect;
  if (const char* uri = std::getenv("LIBVIRT_DEFAULT_URI"); uri && *uri) return {uri};
  return {"qemu:///system"};
}

bool ConnectionGiven(const GlobalOptions& global) {
  const char* uri = std::getenv("LIBVIRT_DEFAULT_URI");
  return !global.connect.empty() || (uri && *uri);
}

Result<std::unique_ptr<FleetSession>> OpenFleetSession(const GlobalOptions& global,
                                                       bool with_source,
                                                       ControllerOptions options,
                                                       uint64_t cache_max_bytes) {
  auto s = std::make_unique<FleetSession>();
  std::string state = global.StateDir();
  GITDISC_ASSIGN_OR_RETURN(auto provider, OpenProvider(ConnectUris(global)));
  s->provider = std::move(provider);
  if (!with_source) return s;
  // As root (the usual case with qemu:///system), the state folder is kept
  // as private as the daemon's (docs/security.md); another user's folder is
  // left as it was made, since only root may hand it to QEMU's group.
  GITDISC_RETURN_IF_ERROR(::geteuid() == 0 ? serve::MakeStateDirPrivate(state)
                                           : MakeDirs(state, 0755));
  s->git = std::make_unique<specs::GitLibrary>();
  GITDISC_ASSIGN_OR_RETURN(specs::SourceOptions so, SourceOptionsFrom(global));
  GITDISC_ASSIGN_OR_RETURN(s->source, specs::Source::Open(*s->git, so));
  iso::IsoCacheOptions co;
  co.dir = JoinPath(state, "isos");
  co.max_bytes = cache_max_bytes;
  GITDISC_ASSIGN_OR_RETURN(s->cache, iso::IsoCache::Open(co));
  s->controller = std::make_unique<Controller>(s->provider.get(), s->source.get(), s->cache.get(),
                                               &s->clock, std::move(options));
  return s;
}

Result<VmInfo> FindVmByName(Provider& provider, const std::string& name) {
  GITDISC_ASSIGN_OR_RETURN(auto vms, provider.ListVms());
  std::vector<VmInfo> found;
  for (VmInfo& v : vms) {
    if (v.name == name) found.push_back(std::move(v));
  }
  if (found.empty()) return Status::NotFound("no VM named " + name);
  if (found.size() > 1) {
    std::string keys;
    for (const VmInfo& v : found) keys += " " + v.key;
    return Status::Invalid("the name " + name + " is ambiguous:" + keys);
  }
  return std::move(found[0]);
}

void PrintPlanText(std::ostream& out, const Plan& plan, const DesiredBuild& desired,
                   const iso::IsoCache* cache, bool color) {
  out << "plan at revision " << Short(plan.revision) << "\n";
  size_t w = 4;
  for (const VmPlan& v : plan.vms) w = std::max(w, v.name.size());
  for (const VmPlan& v : plan.vms) {
    std::string mark, word, detail, col;
    switch (v.kind) {
      case PlanKind::kSkip:
        mark = " ";
        word = "not selected";
        break;
      case PlanKind::kInSync:
        mark = "=";
        word = "in sync";
        col = "\033[32m";
        if (!v.eject_drives.empty()) {
          mark = "-";
          word = "eject leftover disc";
          col = "\033[33m";
        }
        break;
      case PlanKind::kInstall:
      case PlanKind::kUpgrade:
      case PlanKind::kRetry:
        mark = v.kind == PlanKind::kInstall ? "+" : "^";
        word = PlanKindName(v.kind);
        col = "\033[36m";
        for (const std::string& a : v.apply) detail += " " + a;
        detail += "  (bundle " + Short(v.bundle_digest) +
                  (v.insert_drive.empty() ? ", already inserted" : " → " + v.insert_drive) + ")";
        break;
      case PlanKind::kFollow:
        mark = "~";
        word = "applying";
        col = "\033[36m";
        detail = " " + v.op_id;
        break;
      case PlanKind::kBlocked:
        mark = "!";
        word = "blocked: " + v.reason;
        col = "\033[31m";
        detail = " — " + v.message;
        break;
    }
    out << Color(color && !col.empty(), col.c_str()) << mark << " " << std::left
        << std::setw(static_cast<int>(w)) << v.name << "  " << word
        << Color(color && !col.empty(), "\033[0m") << detail << "\n";
  }
  if (!desired.bundle_vms.empty()) out << "bundles:\n";
  for (const auto& [digest, names] : desired.bundle_vms) {
    bool cached = cache && cache->Contains(digest);
    out << "  " << Short(digest) << "  " << (cached ? "reuse" : "build") << "  shared by "
        << names.size() << " VM" << (names.size() == 1 ? "" : "s") << ":";
    for (const std::string& n : names) out << " " << n;
    out << "\n";
  }
  for (const SetStatus& s : plan.sets) {
    out << "set " << s.name << ": " << RolloutStateName(s.rollout) << " — " << s.message << "\n";
  }
  int pending = plan.Pending();
  out << (pending == 0 ? "in sync" : std::to_string(pending) + " VM(s) with changes pending")
      << "\n";
}

void WarnIfFetchFailed(FleetSession& session, std::string_view command, std::ostream& err) {
  if (!session.source) return;
  const Status& fetch = session.source->repository().fetch_status();
  if (!fetch.ok()) {
    err << "gitdisc " << command << ": warning: fetch failed, using the last fetched revision: "
        << fetch.message() << "\n";
  }
}

int RunFleetDiff(const GlobalOptions& global, Io& io) {
  if (!ConnectionGiven(global)) {
    // A dry run against whatever qemu:///system holds is rarely what was
    // meant by a bare `gitdisc diff`; say what the two modes need.
    io.err << "gitdisc diff: say what to compare: --base REV for the changes between two\n"
              "revisions of the specs (no fleet needed), or --connect URI (or\n"
              "$LIBVIRT_DEFAULT_URI) for the plan against that fleet\n";
    return cli::kExitError;
  }
  // The plan of the next `reconcile`, which retries earlier failures once.
  ControllerOptions preview;
  preview.retry_earlier_failures = true;
  auto session = OpenFleetSession(global, /*with_source=*/true, preview);
  if (!session.ok()) {
    io.err << "gitdisc diff: " << session.status().message() << "\n";
    return cli::kExitError;
  }
  auto pass = (*session)->controller->RunPass(/*execute=*/false, global.rev);
  WarnIfFetchFailed(**session, "diff", io.err);
  if (!pass.ok()) {
    io.err << "gitdisc diff: " << pass.status().message() << "\n";
    return cli::kExitError;
  }
  const std::vector<std::string> uris = ConnectUris(global);
  if (global.json()) {
    const iso::IsoCache* cache = (*session)->cache.get();
    nlohmann::json j = PlanToJson(pass->plan, pass->desired,
                                  [cache](const std::string& d) { return cache->Contains(d); });
    j["connections"] = uris;
    io.out << j.dump(2) << "\n";
  } else {
    std::string fleet;
    for (const std::string& uri : uris) fleet += (fleet.empty() ? "" : ", ") + uri;
    io.out << "fleet " << fleet << ": " << pass->plan.vms.size() << " VMs, revision "
           << pass->plan.revision.substr(0, 12) << "\n";
    PrintPlanText(io.out, pass->plan, pass->desired, (*session)->cache.get(), io.out_is_tty);
  }
  return pass->plan.InSync() ? cli::kExitOk : cli::kExitFailed;
}

}  // namespace gitdisc::cli
