// `gitdisc validate [--repo DIR] [--path DIR] [-v] [-o json]`: parse and
// validate every spec under the spec path (DESIGN.md §3, docs/specs.md).
//
// Exit 0 valid, 1 invalid (every problem as FILE:LINE:COLUMN: error: MESSAGE
// on stderr), 2 could not run (no such repo, bad --path, unreadable tree).
// With -o json, stdout carries one JSON object (schemaVersion 1) and stderr
// only "could not run" messages. -v lists the sets found and the YAML
// documents that were not specs.
//
// The specs are the committed ones of --repo at --rev (see OpenTree), the
// spec path inside the repository being --path.
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <variant>

#include "cli/commands.h"
#include "cli/source_options.h"
#include "specs/duration.h"
#include "specs/folder_tree.h"
#include "specs/git_library.h"
#include "specs/repo_path.h"
#include "specs/source.h"
#include "specs/spec_loader.h"

namespace gitdisc::cli {
namespace {

// What validate reads: the committed specs of --repo at --rev (default: the
// tip of --branch, else HEAD / the remote's HEAD), read from Git's object
// database through specs::GitTree — uncommitted edits are never read; a dirty
// spec path is noted in one line on stderr. A plain folder that is not a Git
// repository (specs not committed anywhere yet) is read as it is on disk,
// unless --rev, --branch or a verification flag asks for a revision
// (docs/git-source.md). With verification on, the revision's signature
// verdict comes first; a refused revision's tree is not opened.
struct Revision {
  std::unique_ptr<specs::RepoTree> tree;        // null when refused
  std::optional<specs::SignatureVerdict> signature;  // set when verification is on
};

Result<Revision> OpenRevision(const specs::GitLibrary& lib, const GlobalOptions& global,
                              const std::string& spec_path, Io* io) {
  GITDISC_ASSIGN_OR_RETURN(specs::SourceOptions so, SourceOptionsFrom(global));
  so.spec_path = spec_path;
  auto source = specs::Source::Open(lib, so);
  if (!source.ok()) {
    bool plain_folder = source.status().IsNotFound() && !specs::IsRemoteLocation(so.repo) &&
                        specs::OpenFolderTree(so.repo).ok();
    if (plain_folder && global.rev.empty() && global.branch.empty() && !so.verify.enabled()) {
      GITDISC_ASSIGN_OR_RETURN(auto folder, specs::OpenFolderTree(so.repo));
      return Revision{std::move(folder), std::nullopt};
    }
    return source.status();
  }
  specs::Source& src = **source;
  if (!src.repository().fetch_status().ok()) {
    io->err << "gitdisc validate: warning: fetch failed, using the last known revisions: "
            << src.repository().fetch_status().message() << "\n";
  }
  if (auto note = src.DirtyTreeNote()) io->err << "gitdisc validate: " << *note << "\n";
  GITDISC_ASSIGN_OR_RETURN(std::string sha, src.Resolve(global.rev));
  Revision out;
  if (src.verifying()) {
    GITDISC_ASSIGN_OR_RETURN(out.signature, src.Verify(sha));
    if (!out.signature->verified()) return out;
  }
  GITDISC_ASSIGN_OR_RETURN(auto tree, src.repository().TreeAt(sha));
  out.tree = std::move(tree);
  return out;
}

nlohmann::json SignatureJson(const specs::SignatureVerdict& v) {
  return {{"verified", v.verified()}, {"commit", v.commit},   {"format", v.format},
          {"signer", v.signer},       {"key", v.key},         {"problem", v.verified() ? "" :
                                                                  specs::SignatureProblemName(v.problem)},
          {"reason", v.Reason()}};
}

// A revision refused for its signature: exit 1, saying "signature" and why.
int ReportRefused(const GlobalOptions& global, const specs::SignatureVerdict& v, Io* io) {
  specs::Diagnostic d = specs::SignatureDiagnostic(v);
  if (global.json()) {
    nlohmann::json out = {{"schemaVersion", 1},
                          {"valid", false},
                          {"revision", v.commit},
                          {"signature", SignatureJson(v)},
                          {"errors", 1},
                          {"diagnostics",
                           {{{"file", d.pos.file},
                             {"line", 0},
                             {"column", 0},
                             {"severity", "error"},
                             {"message", d.message}}}}};
    io->out << out.dump(2) << "\n";
    return kExitFailed;
  }
  io->err << d.ToString() << "\n";
  io->err << "1 error: the signature of commit " << v.commit.substr(0, 7)
          << " is not verified; its specs were not read\n";
  return kExitFailed;
}

std::string Plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Where(const std::string& file, int line, int column) {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

nlohmann::json SourceJson(const specs::PayloadSource& source) {
  if (const auto* p = std::get_if<specs::PathSource>(&source)) return {{"path", p->path}};
  // "unpack" only when set, so outputs without it read as before.
  if (const auto* f = std::get_if<specs::FileSource>(&source)) {
    nlohmann::json j = {{"path", f->path}, {"sha256", f->sha256}};
    if (f->unpack) j["unpack"] = true;
    return {{"file", j}};
  }
  const auto& u = std::get<specs::UrlSource>(source);
  nlohmann::json j = {{"url", u.url}, {"sha256", u.sha256}};
  if (u.unpack) j["unpack"] = true;
  return {{"url", j}};
}

nlohmann::json ToJson(const specs::RepoTree& tree, const specs::SpecLoad& load) {
  nlohmann::json sets = nlohmann::json::array();
  for (const specs::PayloadSet& s : load.sets) {
    nlohmann::json payloads = nlohmann::json::array();
    for (const specs::Payload& p : s.payloads) {
      payloads.push_back({{"name", p.name},
                          {"version", p.version},
                          {"source", SourceJson(p.source)},
                          {"run", p.run},
                          {"timeout", specs::FormatDuration(p.timeout)},
                          {"env", p.env},
                          {"after", p.after},
                          {"reboot", specs::RebootPolicyName(p.reboot)}});
    }
    nlohmann::json exprs = nlohmann::json::array();
    for (const specs::SelectorRequirement& r : s.selector.match_expressions) {
      exprs.push_back(
          {{"key", r.key}, {"operator", specs::SelectorOpName(r.op)}, {"values", r.values}});
    }
    const specs::CountOrPercent& mp = s.rollout.max_parallel;
    sets.push_back({{"name", s.name},
                    {"file", s.pos.file},
                    {"line", s.pos.line},
                    {"column", s.pos.column},
                    {"selector",
                     {{"matchLabels", s.selector.match_labels},
                      {"matchExpressions", exprs},
                      {"names", s.selector.names}}},
                    {"payloads", payloads},
                    {"rollout",
                     {{"maxParallel", mp.percent ? nlohmann::json(std::to_string(mp.value) + "%")
                                                 : nlohmann::json(mp.value)},
                      {"maxFailures", s.rollout.max_failures},
                      {"canary", s.rollout.canary}}},
                    {"suspend", s.suspend}});
  }
  nlohmann::json diags = nlohmann::json::array();
  for (const specs::Diagnostic& d : load.diagnostics) {
    diags.push_back(
        {{"file", d.pos.file},
         {"line", d.pos.line},
         {"column", d.pos.column},
         {"severity", d.severity == specs::Diagnostic::Severity::kError ? "error" : "warning"},
         {"message", d.message}});
  }
  nlohmann::json ignored = nlohmann::json::array();
  for (const specs::IgnoredDocument& i : load.ignored) {
    ignored.push_back({{"file", i.file},
                       {"document", i.document},
                       {"line", i.line},
                       {"column", i.column},
                       {"reason", i.reason}});
  }
  return {{"schemaVersion", 1},
          {"valid", load.ok()},
          {"source", tree.Describe()},
          {"revision", tree.Revision()},
          {"specPath", load.spec_path},
          {"files", load.files},
          {"errors", load.error_count()},
          {"warnings", load.warning_count()},
          {"sets", sets},
          {"diagnostics", diags},
          {"ignored", ignored}};
}

int RunValidate(const GlobalOptions& global, Io* io) {
  auto spec_path = specs::NormaliseRepoPath(global.path);
  if (!spec_path) {
    io->err << "gitdisc validate: --path " << global.path
            << " must be a folder inside the repository (relative, without '..' above it)\n";
    return kExitError;
  }
  specs::GitLibrary git_library;  // outlives every tree read below
  auto revision = OpenRevision(git_library, global, *spec_path, io);
  if (!revision.ok()) {
    io->err << "gitdisc validate: cannot read the repository: " << revision.status().message()
            << "\n";
    return kExitError;
  }
  if (revision->signature && !revision->signature->verified()) {
    return ReportRefused(global, *revision->signature, io);
  }
  const std::unique_ptr<specs::RepoTree>* tree = &revision->tree;
  auto loaded = specs::LoadSpecs(**tree, *spec_path);
  if (!loaded.ok()) {
    io->err << "gitdisc validate: cannot read the specs in " << (*tree)->Describe() << ": "
            << loaded.status().message() << "\n";
    return kExitError;
  }
  const specs::SpecLoad& load = *loaded;

  if (global.json()) {
    nlohmann::json out = ToJson(**tree, load);
    if (revision->signature) out["signature"] = SignatureJson(*revision->signature);
    io->out << out.dump(2) << "\n";
    return load.ok() ? kExitOk : kExitFailed;
  }
  if (revision->signature && global.verbose) {
    const specs::SignatureVerdict& v = *revision->signature;
    io->out << "signature: " << v.format << " signature of commit " << v.commit.substr(0, 7)
            << " by " << (v.signer.empty() ? "?" : v.signer) << " (" << v.key << ") verified\n";
  }

  for (const specs::Diagnostic& d : load.diagnostics) io->err << d.ToString() << "\n";
  if (global.verbose) {
    for (const specs::PayloadSet& s : load.sets) {
      io->out << "set " << s.name << " (" << Where(s.pos.file, s.pos.line, s.pos.column)
              << "): " << Plural(static_cast<int>(s.payloads.size()), "payload", "payloads");
      const char* sep = ": ";
      for (const specs::Payload& p : s.payloads) {
        io->out << sep << p.name;
        sep = ", ";
      }
      io->out << (s.suspend ? " (suspended)" : "") << "\n";
    }
    for (const specs::IgnoredDocument& i : load.ignored) {
      io->out << "ignored " << (i.line > 0 ? Where(i.file, i.line, i.column) : i.file);
      if (i.document > 0) io->out << " (document " << i.document << ")";
      io->out << ": " << i.reason << "\n";
    }
  }
  std::string warnings =
      load.warning_count() > 0 ? ", " + Plural(load.warning_count(), "warning", "warnings") : "";
  if (!load.ok()) {
    io->err << Plural(load.error_count(), "error", "errors") << " in "
            << Plural(load.files_with_errors(), "file", "files") << warnings << "\n";
    return kExitFailed;
  }
  io->out << "valid: " << Plural(static_cast<int>(load.sets.size()), "PayloadSet", "PayloadSets")
          << ", " << Plural(load.payload_count(), "payload", "payloads") << warnings << "\n";
  return kExitOk;
}

}  // namespace

Command ValidateCommand() {
  return Command{
      "validate", "check the specs at a revision (0 valid, 1 invalid, 2 error)",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        sub->footer(
            "Reads every *.yaml/*.yml under --path in the repository --repo (default: .) at\n"
            "--rev (default: the branch tip) — committed content only — and checks\n"
            "each gitdisc/v1 PayloadSet against every rule of docs/specs.md. Problems go to\n"
            "stderr as FILE:LINE:COLUMN: error: MESSAGE. -v also lists the sets found and the\n"
            "YAML documents that are not specs; -o json prints one JSON object instead.\n"
            "Exit status: 0 valid, 1 invalid, 2 could not run.");
        return std::function<int()>([global, io] { return RunValidate(*global, io); });
      }};
}

}  // namespace gitdisc::cli
