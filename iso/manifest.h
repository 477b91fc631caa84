// The disc manifest /GITDISC.JSN (DESIGN.md §5): what a bundle ISO holds,
// with every file's size, mode and SHA-256, so the agent can check a disc
// before running anything from it.
//
// RenderManifest is canonical: compact JSON, keys sorted, payloads sorted by
// name, files by path, one trailing '\n'. The same Manifest always renders to
// the same bytes, and the length depends only on the structure (digests are
// fixed-width), which the writer relies on.
//
// ParseManifest reads a manifest from a disc that may be hostile: it is
// bounded (size, nesting, counts, string lengths), strict (unknown keys, wrong
// types, malformed digests, unsafe paths and names are errors) and checks that
// the bundle digest matches the payload digests. Errors are kCorrupt with a
// JSON-pointer-like location ("payloads[2].files[5].path: ...").
//
// Pure functions over values; thread-safe.
#ifndef GITDISC_ISO_MANIFEST_H_
#define GITDISC_ISO_MANIFEST_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::iso {

inline constexpr char kManifestName[] = "GITDISC.JSN";  // at the disc root
inline constexpr char kPayloadRoot[] = "P";             // /P/<payload>/...
inline constexpr int kManifestFormat = 1;
inline constexpr uint64_t kMaxManifestBytes = 64ull << 20;

struct ManifestFile {
  std::string path;  // relative to the payload folder
  uint64_t size = 0;
  uint32_t mode = 0;   // POSIX mode with type bits: 0100644, 0100755, 0120777
  std::string sha256;  // of the content; of the target string for symlinks
  bool is_symlink() const { return (mode & 0170000) == 0120000; }
  bool operator==(const ManifestFile&) const = default;
};

struct ManifestPayload {
  std::string name;
  std::string version;
  std::string digest;
  std::vector<std::string> run;
  std::map<std::string, std::string> env;
  int64_t timeout_seconds = 600;
  std::string reboot = "never";
  std::vector<std::string> after;
  std::vector<ManifestFile> files;
  bool operator==(const ManifestPayload&) const = default;
};

struct Manifest {
  int format = kManifestFormat;
  std::string digest;  // the bundle digest
  std::string revision;
  std::vector<ManifestPayload> payloads;

  const ManifestPayload* FindPayload(std::string_view name) const;
  bool operator==(const Manifest&) const = default;
};

// The payload digest recomputed from a manifest entry with the canonical
// encoding (iso/bundle.h ComputePayloadDigest: name, version, run, env, reboot,
// file paths, modes and digests), so a reader can tell whether an entry pairs a
// known digest with other commands or files.
std::string RecomputePayloadDigest(const ManifestPayload& payload);

std::string RenderManifest(const Manifest& manifest);
// The value is canonical (payloads by name, files by path) whatever order the
// document used, so RenderManifest(ParseManifest(x)) parses back to the same value.
Result<Manifest> ParseManifest(std::string_view text);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_MANIFEST_H_
