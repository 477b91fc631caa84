// `gitdisc diff`: what would change.
//   --base REV [--rev REV]  between two revisions of the specs, no fleet
//                           needed (this file); exit 0 no change, 1 changes,
//                           2 error (unknown revision, unreachable repo,
//                           invalid specs on either side, with diagnostics).
//   --connect URI …         the plan against the fleet (the reconciler's dry
//                           run): RunFleetDiff below, built by the reconcile
//                           loop's owner.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>

#include "cli/commands.h"
#include "cli/fleet_session.h"
#include "cli/source_options.h"
#include "specs/git_library.h"
#include "specs/revision_diff.h"
#include "specs/source.h"

namespace gitdisc::cli {
namespace {

struct DiffOptions {
  std::string base;
};

// The fleet mode (`gitdisc diff --connect …`): cli/fleet_session.h.
int RunFleetDiff(const GlobalOptions& global, Io* io) {
  return RunFleetDiff(global, *io);
}

void PrintDiagnostics(const specs::Snapshot& snap, const char* side, Io* io) {
  io->err << "gitdisc diff: the specs at " << side << " (commit " << snap.revision().substr(0, 7)
          << ") are invalid:\n";
  for (const specs::Diagnostic& d : snap.diagnostics()) io->err << d.ToString() << "\n";
}

int RunRevisionDiff(const GlobalOptions& g, const DiffOptions& d, Io* io) {
  specs::GitLibrary lib;
  auto so = SourceOptionsFrom(g);
  if (!so.ok()) {
    io->err << "gitdisc diff: " << so.status().message() << "\n";
    return kExitError;
  }
  auto source = specs::Source::Open(lib, *so);
  if (!source.ok()) {
    io->err << "gitdisc diff: " << source.status().message() << "\n";
    return kExitError;
  }
  specs::Source& src = **source;
  if (!src.repository().fetch_status().ok()) {
    io->err << "gitdisc diff: warning: fetch failed, using the last known revisions: "
            << src.repository().fetch_status().message() << "\n";
  }
  if (auto note = src.DirtyTreeNote()) io->err << "gitdisc diff: " << *note << "\n";

  // Like invalid specs, an unverified revision on either side is an error,
  // found before its specs are read.
  bool unverified = false;
  for (const auto& [rev, side] : {std::pair{d.base, "--base"},
                                  std::pair{g.rev, g.rev.empty() ? "the branch tip" : "--rev"}}) {
    auto verdict = src.Verify(rev);
    if (verdict.ok() && !verdict->verified()) {
      io->err << "gitdisc diff: " << side << " is not verified:\n"
              << specs::SignatureDiagnostic(*verdict).ToString() << "\n";
      unverified = true;
    }
  }
  if (unverified) return kExitError;
  auto base = src.Load(d.base);
  if (!base.ok()) {
    io->err << "gitdisc diff: --base: " << base.status().message() << "\n";
    return kExitError;
  }
  auto rev = src.Load(g.rev);
  if (!rev.ok()) {
    io->err << "gitdisc diff: " << (g.rev.empty() ? "branch tip" : "--rev") << ": "
            << rev.status().message() << "\n";
    return kExitError;
  }
  bool invalid = false;
  if (!(*base)->valid()) {
    PrintDiagnostics(**base, "--base", io);
    invalid = true;
  }
  if (!(*rev)->valid()) {
    PrintDiagnostics(**rev, g.rev.empty() ? "the branch tip" : "--rev", io);
    invalid = true;
  }
  if (invalid) return kExitError;

  auto digests = [](const specs::Snapshot& snap) {
    return [&snap](const specs::Payload& p) -> Result<specs::PayloadDigests> {
      GITDISC_ASSIGN_OR_RETURN(std::string digest, snap.Digest(p));
      GITDISC_ASSIGN_OR_RETURN(std::string content, snap.ContentDigestOf(p));
      return specs::PayloadDigests{digest, content};
    };
  };
  auto diff =
      specs::DiffSpecs((*base)->load().sets, digests(**base), (*rev)->load().sets, digests(**rev));
  if (!diff.ok()) {
    io->err << "gitdisc diff: " << diff.status().message() << "\n";
    return kExitError;
  }
  diff->base = (*base)->revision();
  diff->revision = (*rev)->revision();
  io->out << (g.json() ? specs::RenderDiffJson(*diff) : specs::RenderDiffText(*diff));
  return diff->empty() ? kExitOk : kExitFailed;
}

}  // namespace

Command DiffCommand() {
  return Command{
      "diff", "show what would change: between revisions (--base) or against the fleet (--connect)",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        auto opts = std::make_shared<DiffOptions>();
        sub->add_option("--base", opts->base,
                        "compare the specs at this revision with --rev (default: the branch tip)");
        sub->footer(
            "Exit status: 0 no change, 1 changes, 2 error (unknown revision, unreachable\n"
            "repository, invalid specs on either side).");
        return std::function<int()>([opts, global, io] {
          if (opts->base.empty()) return RunFleetDiff(*global, io);
          return RunRevisionDiff(*global, *opts, io);
        });
      }};
}

}  // namespace gitdisc::cli
