// YamlStream: a YAML file read into a plain, bounded tree — the only place
// gitdisc hands untrusted bytes to yaml-cpp.
//
// Why not YAML::Load: its node graph shares aliased nodes (an alias bomb
// becomes an exponential walk), it recurses as deep as the input nests, and it
// throws. Here yaml-cpp's event parser feeds a flat node array, and every limit
// is enforced as events arrive, before yaml-cpp descends further:
//   - the content must be UTF-8 holding only YAML-printable characters (checked
//     first, located at the first bad byte);
//   - at most `max_bytes` of input, `max_depth` nested collections, `max_nodes`
//     nodes per file;
//   - aliases are kept as kAlias nodes, never expanded (the spec validator
//     rejects them; other YAML documents may use them freely).
// Every yaml-cpp exception is caught; a problem stops the reading and is
// reported as one located Diagnostic, keeping the documents completed before it.
//
// Lines and columns are 1-based; columns count bytes, as yaml-cpp and GCC do.
// A YamlStream is a value; ReadYamlStream is thread-safe.
#ifndef GITDISC_SPECS_YAML_TREE_H_
#define GITDISC_SPECS_YAML_TREE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "specs/spec_types.h"

namespace gitdisc::specs {

struct YamlLimits {
  size_t max_bytes = 1 << 20;  // 1 MiB per file
  int max_depth = 64;          // nested sequences/mappings
  size_t max_nodes = 100000;   // per file, all documents together
};

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMap, kAlias };
  Kind kind = Kind::kNull;
  int line = 0;
  int column = 0;
  bool plain = false;  // a scalar written without quotes or tags (so `5` may be a number)
  std::string value;   // a scalar's text
  // Indices into YamlStream::nodes: a sequence's items, or a mapping's keys
  // and values alternating (key0, value0, key1, value1, ...).
  std::vector<int> children;

  bool is_map() const { return kind == Kind::kMap; }
  bool is_seq() const { return kind == Kind::kSequence; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_null() const { return kind == Kind::kNull; }
};

struct YamlDocument {
  int root = -1;  // index of the top node
  int line = 0;
  int column = 0;
};

struct YamlStream {
  std::vector<YamlNode> nodes;
  std::vector<YamlDocument> documents;  // completed documents, in order
  std::optional<Diagnostic> error;      // why reading stopped early, if it did

  const YamlNode& node(int i) const { return nodes[static_cast<size_t>(i)]; }
};

// Reads every document of `content`. `file` names the source in diagnostics.
YamlStream ReadYamlStream(std::string_view file, std::string_view content,
                          const YamlLimits& limits = {});

// Where the first byte that is not YAML-printable UTF-8 is, as a message, or
// nullopt when all of `content` is fine. Exposed for tests.
std::optional<Diagnostic> CheckYamlText(std::string_view file, std::string_view content);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_YAML_TREE_H_
