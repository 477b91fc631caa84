// The spec loader: every gitdisc/v1 PayloadSet under a spec path of a
// RepoTree (a commit or a folder), validated as a whole.
//
// Discovery: files named *.yaml or *.yml anywhere below the spec path, in
// path order, except hidden ones (a path part starting with '.') and files
// inside a payload folder (a folder some spec names with `path:` — payloads
// may carry YAML of their own, even invalid YAML). Each file is read with a
// size limit and parsed by specs/spec_parser.h; then the checks that span files
// or need the tree run: set names unique in the repo, and each `path:` payload
// folder exists as a real folder (not a file, symlink or submodule), holds no
// symlink leading out of it and no submodule, and holds its `run` program when
// that is a relative path with a '/' (as a file with an execute bit). A
// `file:`/`url:` payload without `unpack` is the artifact alone (mode 0644), so
// such a run program is an error there; with `unpack` the tree is not known
// before the archive is fetched, and the run program is not checked.
//
// Payload `path:` values are relative to the spec path: the spec path is the
// root of the fleet, so a fleet can live in a subfolder of a bigger repo.
//
// A spec path that does not exist is a Diagnostic (the revision is invalid),
// not a failure. Failure (a non-ok Result) means the tree could not be read —
// an I/O or object-database problem — so nothing can be said about validity.
//
// Thread-safe as far as the tree is (RepoTree implementations are).
#ifndef GITDISC_SPECS_SPEC_LOADER_H_
#define GITDISC_SPECS_SPEC_LOADER_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/repo_tree.h"
#include "specs/spec_parser.h"
#include "specs/spec_types.h"
#include "specs/yaml_tree.h"

namespace gitdisc::specs {

struct LoadOptions {
  YamlLimits limits;  // per spec file; the size limit is 1 MiB by default
};

struct SpecLoad {
  std::string spec_path;           // as given, "" for the tree root
  std::vector<std::string> files;  // spec files read, tree paths, in order
  // Sets that passed every rule, in file and document order. When ok() is
  // false some sets are missing: never act on a SpecLoad that is not ok().
  std::vector<PayloadSet> sets;
  std::vector<Diagnostic> diagnostics;  // by file, then position
  std::vector<IgnoredDocument> ignored;

  bool ok() const { return error_count() == 0; }
  int error_count() const;
  int warning_count() const;
  int files_with_errors() const;  // distinct files named by errors
  int payload_count() const;      // over `sets`
};

// Loads and validates every spec under `spec_path` (a normal repo path, ""
// for the root). kInvalid when spec_path is not a normal relative path; the
// tree's own error when it cannot be read.
Result<SpecLoad> LoadSpecs(const RepoTree& tree, std::string_view spec_path,
                           const LoadOptions& options = {});

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SPEC_LOADER_H_
