#include "specs/spec_loader.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "specs/name_rules.h"
#include "specs/payload_content.h"
#include "specs/repo_path.h"

namespace gitdisc::specs {
namespace {

bool IsYamlName(std::string_view path) {
  auto ends = [&](std::string_view suffix) {
    return path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  return ends(".yaml") || ends(".yml");
}

// True when some part of `rel` (a path below the spec path) starts with '.'.
bool IsHidden(std::string_view rel) {
  size_t start = 0;
  while (start < rel.size()) {
    if (rel[start] == '.') return true;
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

std::string RelativeTo(std::string_view path, std::string_view dir) {
  if (dir.empty()) return std::string(path);
  return path.size() > dir.size() ? std::string(path.substr(dir.size() + 1)) : std::string();
}

Diagnostic Error(SourcePos pos, std::string message) {
  return Diagnostic{std::move(pos), Diagnostic::Severity::kError, std::move(message)};
}

class Loader {
 public:
  Loader(const RepoTree& tree, std::string_view spec_path, const LoadOptions& options)
      : tree_(tree), options_(options) {
    out_.spec_path = std::string(spec_path);
  }

  Result<SpecLoad> Run() {
    const std::string& root = out_.spec_path;
    SourcePos root_pos{root.empty() ? "." : root, 0, 0};
    auto st = tree_.Stat(root);
    if (!st.ok()) {
      if (!st.status().IsNotFound()) return st.status();
      out_.diagnostics.push_back(
          Error(root_pos, "spec path " + Quoted(root) + " does not exist in " + tree_.Describe()));
      return std::move(out_);
    }
    if (st->type != RepoTree::Type::kDir) {
      out_.diagnostics.push_back(Error(root_pos, "spec path " + Quoted(root) + " is not a folder"));
      return std::move(out_);
    }
    // Names and types only: sizes would cost an object read per blob of the
    // whole tree, payloads included.
    GITDISC_ASSIGN_OR_RETURN(std::vector<RepoTree::Entry> entries,
                             tree_.ListWithoutSizes(root, true));

    // Parse every candidate first: payload folders are only known afterwards.
    struct FileResult {
      std::string path;
      std::optional<ParsedFile> parsed;
      std::vector<Diagnostic> read_errors;
    };
    std::vector<FileResult> files;
    for (const RepoTree::Entry& e : entries) {
      std::string rel = RelativeTo(e.path, root);
      if (!IsYamlName(e.path) || IsHidden(rel)) continue;
      if (e.type == RepoTree::Type::kDir || e.type == RepoTree::Type::kSubmodule) continue;
      FileResult fr;
      fr.path = e.path;
      if (e.type == RepoTree::Type::kSymlink) {
        fr.read_errors.push_back(Error(SourcePos{e.path, 1, 1},
                                       "spec file is a symlink; gitdisc does not follow symlinks"));
      } else {
        auto content = tree_.ReadFile(e.path, options_.limits.max_bytes);
        if (!content.ok()) {
          if (content.status().code() != Status::Code::kInvalid) return content.status();
          GITDISC_ASSIGN_OR_RETURN(RepoTree::Entry sized, tree_.Stat(e.path));
          fr.read_errors.push_back(
              Error(SourcePos{e.path, 1, 1},
                    "file is " + std::to_string(sized.size) + " bytes, over the limit of " +
                        std::to_string(options_.limits.max_bytes) + " bytes for spec files"));
        } else {
          fr.parsed = ParseSpecFile(e.path, *content, options_.limits);
        }
      }
      files.push_back(std::move(fr));
    }

    std::set<std::string> payload_dirs;
    for (const FileResult& fr : files) {
      if (!fr.parsed) continue;
      for (const std::string& p : fr.parsed->payload_paths)
        payload_dirs.insert(JoinRepoPath(root, p));
    }

    std::map<std::string, SourcePos> set_names;
    for (FileResult& fr : files) {
      if (auto dir = EnclosingPayloadDir(fr.path, payload_dirs)) {
        out_.ignored.push_back(
            IgnoredDocument{fr.path, 0, 0, 0, "inside payload folder " + Quoted(*dir)});
        continue;
      }
      out_.files.push_back(fr.path);
      for (Diagnostic& d : fr.read_errors) out_.diagnostics.push_back(std::move(d));
      if (!fr.parsed) continue;
      ParsedFile& pf = *fr.parsed;
      for (Diagnostic& d : pf.diagnostics) out_.diagnostics.push_back(std::move(d));
      for (IgnoredDocument& i : pf.ignored) out_.ignored.push_back(std::move(i));
      std::set<std::string> duplicates;
      for (const auto& [name, pos] : pf.declared_names) {
        auto [it, fresh] = set_names.emplace(name, pos);
        if (!fresh) {
          out_.diagnostics.push_back(
              Error(pos, "PayloadSet " + Quoted(name) + " is already defined at " +
                             it->second.file + ":" + std::to_string(it->second.line) + ":" +
                             std::to_string(it->second.column) + "; set names must be unique"));
          duplicates.insert(name + "@" + std::to_string(pos.line) + ":" +
                            std::to_string(pos.column));
        }
      }
      for (PayloadSet& set : pf.sets) {
        std::string key = set.name + "@" + std::to_string(set.name_pos.line) + ":" +
                          std::to_string(set.name_pos.column);
        if (duplicates.count(key)) continue;
        bool ok = true;
        for (const Payload& p : set.payloads) {
          GITDISC_ASSIGN_OR_RETURN(bool folder_ok, CheckPayloadFolder(p));
          ok = ok && folder_ok;
        }
        if (ok) out_.sets.push_back(std::move(set));
      }
    }
    if (out_.files.empty()) {
      out_.diagnostics.push_back(Diagnostic{
          root_pos, Diagnostic::Severity::kWarning,
          "no *.yaml or *.yml files under spec path " + Quoted(root.empty() ? "." : root)});
    }
    SortDiagnostics();
    return std::move(out_);
  }

 private:
  static std::optional<std::string> EnclosingPayloadDir(const std::string& file,
                                                        const std::set<std::string>& dirs) {
    for (std::string dir = RepoPathParent(file);; dir = RepoPathParent(dir)) {
      if (dirs.count(dir)) return dir;
      if (dir.empty()) return std::nullopt;
    }
  }

  void AddError(const SourcePos& pos, std::string message) {
    out_.diagnostics.push_back(Error(pos, std::move(message)));
  }

  // The tree-level rules for one payload's folder; false when one failed.
  Result<bool> CheckPayloadFolder(const Payload& p) {
    const PathSource* src = std::get_if<PathSource>(&p.source);
    if (!src) return CheckArtifactRun(p);
    std::string dir = JoinRepoPath(out_.spec_path, src->path);
    std::string what = "payload " + Quoted(p.name) + ": ";
    auto st = tree_.Stat(dir);
    if (!st.ok()) {
      if (!st.status().IsNotFound()) return st.status();
      AddError(p.source_pos, what + "folder " + Quoted(src->path) + " does not exist (looked for " +
                                 Quoted(dir) + " in " + tree_.Describe() + ")");
      return false;
    }
    switch (st->type) {
      case RepoTree::Type::kDir:
        break;
      case RepoTree::Type::kSymlink:
        AddError(p.source_pos, what + Quoted(src->path) +
                                   " is a symlink; a payload folder must be a real folder");
        return false;
      case RepoTree::Type::kSubmodule:
        AddError(p.source_pos,
                 what + Quoted(src->path) + " is a Git submodule; gitdisc cannot read submodules");
        return false;
      case RepoTree::Type::kFile:
        AddError(p.source_pos, what + Quoted(src->path) + " is a file, not a folder");
        return false;
    }
    GITDISC_ASSIGN_OR_RETURN(std::vector<RepoTree::Entry> entries,
                             tree_.ListWithoutSizes(dir, true));
    bool ok = true;
    for (const RepoTree::Entry& e : entries) {
      std::string rel = RelativeTo(e.path, dir);
      if (e.type == RepoTree::Type::kSubmodule) {
        AddError(p.source_pos, what + Quoted(rel) +
                                   " is a Git submodule; gitdisc cannot read "
                                   "submodules");
        ok = false;
      } else if (e.type == RepoTree::Type::kSymlink) {
        GITDISC_ASSIGN_OR_RETURN(std::string target, tree_.ReadLink(e.path));
        std::optional<std::string> resolved;
        if (!target.empty() && target[0] != '/') {
          resolved = NormaliseRepoPath(JoinRepoPath(RepoPathParent(rel), target));
        }
        if (!resolved) {
          AddError(p.source_pos, what + "symlink " + Quoted(rel) +
                                     " points outside the payload "
                                     "folder (to " +
                                     Quoted(target) + ")");
          ok = false;
        }
      }
    }
    if (!p.run.empty()) {
      const std::string& prog = p.run[0];
      if (prog[0] != '/' && prog.find('/') != std::string::npos) {
        auto norm = NormaliseRepoPath(prog);
        if (!norm || norm->empty()) {
          AddError(p.source_pos,
                   what + "run program " + Quoted(prog) + " leaves the payload folder");
          ok = false;
        } else {
          auto prog_st = tree_.Stat(JoinRepoPath(dir, *norm));
          if (!prog_st.ok() && !prog_st.status().IsNotFound()) return prog_st.status();
          if (!prog_st.ok() || prog_st->type != RepoTree::Type::kFile) {
            AddError(p.source_pos, what + "run program " + Quoted(prog) + " is not a file in " +
                                       Quoted(src->path));
            ok = false;
          } else if ((prog_st->mode & 0111) == 0) {
            AddError(p.source_pos, what + "run program " + Quoted(prog) +
                                       " is not executable (chmod +x it, or run it through "
                                       "/bin/sh)");
            ok = false;
          }
        }
      }
    }
    return ok;
  }

  // A file: or url: payload without unpack is one file on the disc, named
  // ArtifactFileName, mode 0644: a relative run program (with a '/') can only
  // be that file, and it would not be executable. With unpack the tree is
  // only known once the archive is fetched, so nothing is said here.
  bool CheckArtifactRun(const Payload& p) {
    if (p.run.empty() || IsUnpacked(p.source)) return true;
    const std::string& prog = p.run[0];
    if (prog.empty() || prog[0] == '/' || prog.find('/') == std::string::npos) return true;
    const std::string what = "payload " + Quoted(p.name) + ": run program " + Quoted(prog);
    const std::string name = ArtifactFileName(p.source);
    auto norm = NormaliseRepoPath(prog);
    if (!norm || norm->empty()) {
      AddError(p.source_pos, what + " leaves the payload folder");
    } else if (*norm != name) {
      AddError(p.source_pos, what + " is not in the payload: without unpack the payload holds "
                                    "only the artifact, " + Quoted(name) +
                                    " (add unpack: true for an archive)");
    } else {
      AddError(p.source_pos, what + " is the artifact itself, delivered with mode 0644 (not "
                                    "executable): run it through an interpreter, e.g. "
                                    "[\"/bin/sh\", \"./" + name + "\"]");
    }
    return false;
  }

  void SortDiagnostics() {
    std::map<std::string, size_t> order;
    for (size_t i = 0; i < out_.files.size(); ++i) order.emplace(out_.files[i], i + 1);
    auto rank = [&](const Diagnostic& d) {
      auto it = order.find(d.pos.file);
      return std::tuple(it == order.end() ? 0 : it->second, d.pos.line, d.pos.column);
    };
    std::stable_sort(out_.diagnostics.begin(), out_.diagnostics.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
  }

  const RepoTree& tree_;
  const LoadOptions& options_;
  SpecLoad out_;
};

}  // namespace

int SpecLoad::error_count() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == Diagnostic::Severity::kError;
  }));
}

int SpecLoad::warning_count() const { return static_cast<int>(diagnostics.size()) - error_count(); }

int SpecLoad::files_with_errors() const {
  std::set<std::string> names;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Diagnostic::Severity::kError) names.insert(d.pos.file);
  }
  return static_cast<int>(names.size());
}

int SpecLoad::payload_count() const {
  int n = 0;
  for (const PayloadSet& s : sets) n += static_cast<int>(s.payloads.size());
  return n;
}

Result<SpecLoad> LoadSpecs(const RepoTree& tree, std::string_view spec_path,
                           const LoadOptions& options) {
  if (!IsNormalRepoPath(spec_path)) {
    return Status::Invalid("spec path " + Quoted(spec_path) +
                           " must be a normalised path relative to the repository root");
  }
  return Loader(tree, spec_path, options).Run();
}

}  // namespace gitdisc::specs
