// The gitdisc/v1 spec parser and validator for one YAML file.
//
// ParseSpecFile reads a file's documents (through specs/yaml_tree.h, which
// bounds size, depth and node count and rejects bad encodings) and turns every
// document whose apiVersion is gitdisc/v1 into a PayloadSet, checking every
// rule of docs/specs.md that can be checked inside one file. It never stops at
// the first problem: each one becomes a located Diagnostic, and only documents
// without errors come back as PayloadSets (so a set that is returned is whole).
//
// Checks that need more than one file or the repository — set names unique in
// the repo, payload folders that exist — are the loader's (specs/spec_loader.h).
//
// Documents with another apiVersion (or none) are not specs: they are listed in
// `ignored`, with a warning when they look like a misspelled spec.
//
// Pure function of its input; thread-safe; never throws; time and memory are
// linear in the (bounded) input.
#ifndef GITDISC_SPECS_SPEC_PARSER_H_
#define GITDISC_SPECS_SPEC_PARSER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "specs/spec_types.h"
#include "specs/yaml_tree.h"

namespace gitdisc::specs {

// A YAML document that is not a gitdisc spec.
struct IgnoredDocument {
  std::string file;
  int document = 0;  // 1-based index of the document in its file
  int line = 0;
  int column = 0;
  std::string reason;  // "apiVersion 'v1' is not gitdisc/v1", "not a mapping", ...
  bool operator==(const IgnoredDocument&) const = default;
};

struct ParsedFile {
  std::vector<PayloadSet> sets;         // valid sets, in document order
  std::vector<Diagnostic> diagnostics;  // errors and warnings, by position
  std::vector<IgnoredDocument> ignored;
  // Names of every gitdisc/v1 document's metadata.name that was well formed,
  // valid set or not (so "defined twice" is reported even next to other errors).
  std::vector<std::pair<std::string, SourcePos>> declared_names;
  // Every well-formed `path:` of a payload in a gitdisc/v1 document, valid set
  // or not: the loader skips YAML inside payload folders.
  std::vector<std::string> payload_paths;
  bool yaml_ok = true;  // false when the file could not be read as YAML at all
  int error_count() const;
};

// At most this many diagnostics are kept per file; a last one says how many
// more there were.
inline constexpr int kMaxDiagnosticsPerFile = 1000;

ParsedFile ParseSpecFile(std::string_view file, std::string_view content,
                         const YamlLimits& limits = {});

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SPEC_PARSER_H_
