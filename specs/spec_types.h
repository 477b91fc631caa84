// The gitdisc/v1 spec model: what a commit declares (DESIGN.md §3).
//
// These are plain values produced by the parser (specs/spec_parser.h) after
// validation: a PayloadSet that exists here passed every rule, so consumers
// (desired-state assembly, planner, ISO builder) need not re-check. Positions
// point back into the YAML for diagnostics reported later (conflicts, missing
// payload folders at a revision).
#ifndef GITDISC_SPECS_SPEC_TYPES_H_
#define GITDISC_SPECS_SPEC_TYPES_H_

#include <chrono>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace gitdisc::specs {

inline constexpr char kApiVersion[] = "gitdisc/v1";
inline constexpr char kKindPayloadSet[] = "PayloadSet";

// Where something was written: 1-based line and column, as editors count.
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  bool operator==(const SourcePos&) const = default;
};

// One located problem, printed GCC-style: "FILE:LINE:COLUMN: error: MESSAGE".
struct Diagnostic {
  enum class Severity { kError, kWarning };
  SourcePos pos;
  Severity severity = Severity::kError;
  std::string message;
  std::string ToString() const;
  bool operator==(const Diagnostic&) const = default;
};

enum class SelectorOp { kIn, kNotIn, kExists, kDoesNotExist };

struct SelectorRequirement {
  std::string key;
  SelectorOp op = SelectorOp::kIn;
  std::vector<std::string> values;  // non-empty for In/NotIn, empty otherwise
  bool operator==(const SelectorRequirement&) const = default;
};

// All given criteria must hold. An empty selector is invalid at parse time.
struct Selector {
  std::map<std::string, std::string> match_labels;
  std::vector<SelectorRequirement> match_expressions;
  std::vector<std::string> names;  // shell globs over VM names
  bool operator==(const Selector&) const = default;
};

enum class RebootPolicy { kNever, kIfRequested, kAlways };

// Payload content sources: exactly one per payload.
struct PathSource {  // a folder in the repo, read at the same revision
  std::string path;  // relative, normalised, inside the repo
  bool operator==(const PathSource&) const = default;
};
struct FileSource {  // a file outside Git, pinned by digest
  std::string path;
  std::string sha256;  // 64 lower-case hex digits
  // `unpack: true`: the payload is the archive's extracted tree, not the file
  // (specs/unpacked_artifacts.h).
  bool unpack = false;
  bool operator==(const FileSource&) const = default;
};
struct UrlSource {  // fetched once, pinned by digest
  std::string url;
  std::string sha256;
  bool unpack = false;  // as FileSource::unpack
  bool operator==(const UrlSource&) const = default;
};
using PayloadSource = std::variant<PathSource, FileSource, UrlSource>;

// A file: or url: source with `unpack: true`.
bool IsUnpacked(const PayloadSource& source);

struct Payload {
  std::string name;
  std::string version;
  PayloadSource source;
  std::vector<std::string> run;  // argv, relative to the payload folder
  std::chrono::seconds timeout{600};
  std::map<std::string, std::string> env;
  std::vector<std::string> after;  // payload names applied first
  RebootPolicy reboot = RebootPolicy::kNever;
  SourcePos pos;         // of the payload's entry in the list
  SourcePos source_pos;  // of the path/file/url value (for "folder missing" later)
  bool operator==(const Payload&) const = default;
};

// An integer count or a percentage of the set's selected VMs.
struct CountOrPercent {
  int value = 0;
  bool percent = false;
  // Resolves against a total: percentages round down, with a floor of 1 when
  // the spec asked for at least 1%.
  int Resolve(int total) const;
  bool operator==(const CountOrPercent&) const = default;
};

struct Rollout {
  CountOrPercent max_parallel{25, true};  // default 25% of the set's VMs, at least 1
  int max_failures = 0;
  int canary = 0;
  bool operator==(const Rollout&) const = default;
};

struct PayloadSet {
  std::string name;
  Selector selector;
  std::vector<Payload> payloads;
  Rollout rollout;
  bool suspend = false;
  SourcePos pos;       // of the document
  SourcePos name_pos;  // of metadata.name (for "defined twice")
  bool operator==(const PayloadSet&) const = default;
};

const char* SelectorOpName(SelectorOp op);
const char* RebootPolicyName(RebootPolicy p);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SPEC_TYPES_H_
