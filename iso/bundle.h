// The bundle model: what goes onto one disc (DESIGN.md §5), independent of
// where the bytes come from. The reconciler builds a Bundle from Git (blobs it
// already holds, digests known), `gitdisc iso build` from plain folders
// (digests unknown until the writer streams the files).
//
// Identity:
//   bundle digest = SHA-256 of the payload digests, sorted bytewise, joined
//                   by '\n' (no trailing newline); the empty bundle hashes "".
//   payload digest = given by the caller (specs/ owns the canonical encoding
//                   for Git payloads); when empty, the writer computes
//                   ComputePayloadDigest() once every file digest is known.
//
// Values: copyable and movable; `open` callbacks must be callable from another
// thread (the writer reads files on libisofs' writer thread) but are never
// called concurrently for one file.
#ifndef GITDISC_ISO_BUNDLE_H_
#define GITDISC_ISO_BUNDLE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::iso {

// A sequential source of one file's bytes.
class FileReader {
 public:
  virtual ~FileReader() = default;
  // Reads up to n bytes into buf; returns the count, 0 at end of data.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

// Reads a file on disk (O_RDONLY, sequential read-ahead advised).
Result<std::unique_ptr<FileReader>> OpenDiskFile(const std::string& path);
// Reads bytes the caller already holds (e.g. a Git blob); keeps a copy.
std::unique_ptr<FileReader> MemoryReader(std::string data);

// POSIX file-type bits used in BundleFile::mode and the manifest.
inline constexpr uint32_t kModeRegular = 0100000;
inline constexpr uint32_t kModeSymlink = 0120000;
inline constexpr uint32_t kModeTypeMask = 0170000;

struct BundleFile {
  // Relative to the payload folder, '/'-separated, normalised (no "", ".",
  // ".." components, no leading or trailing '/').
  std::string path;
  // Permission bits (0644, 0755; at most 0777). Type bits are added by the
  // writer: kModeRegular, or kModeSymlink for symlinks (always 0777).
  uint32_t mode = 0644;
  // Bytes of content; for a symlink, the length of its target.
  uint64_t size = 0;
  // Known SHA-256 of the content (64 lower-case hex) or empty. When given,
  // the writer checks the streamed bytes against it and fails on mismatch.
  // For a symlink it is the SHA-256 of the target string (computed if empty).
  std::string sha256;
  // Non-empty for a symlink; `open` is then unused.
  std::string symlink_target;
  // Produces the content; called once per build, on the writer thread.
  std::function<Result<std::unique_ptr<FileReader>>()> open;

  bool is_symlink() const { return !symlink_target.empty(); }
};

struct BundlePayload {
  std::string name;  // IsValidPayloadName; the disc folder is /P/<name>
  std::string version;
  std::string digest;            // 64 hex, or empty: computed by the writer
  std::vector<std::string> run;  // argv, relative to the payload folder
  std::map<std::string, std::string> env;
  int64_t timeout_seconds = 600;
  std::string reboot = "never";  // never | ifRequested | always
  std::vector<std::string> after;
  std::vector<BundleFile> files;
};

struct Bundle {
  std::string revision;  // the commit the bundle was read from; free text for folders
  std::vector<BundlePayload> payloads;
  // Seconds since the epoch used for every time on the disc. <= 0 means
  // kDefaultSourceDateEpoch (builds stay reproducible without a commit).
  int64_t source_date_epoch = 0;
};

// 1980-01-01T00:00:00Z: the DOS/ZIP epoch, used when nothing better is known.
inline constexpr int64_t kDefaultSourceDateEpoch = 315532800;

// [A-Za-z0-9] followed by up to 62 of [A-Za-z0-9._-], not "." / ".." anywhere
// as a whole; safe as a folder name on every reader.
bool IsValidPayloadName(std::string_view name);
// Relative, '/'-separated, normalised, no NUL, components <= 255 bytes, total
// <= 4096 bytes.
bool IsValidRelativePath(std::string_view path);

// See the header comment for the definitions.
std::string ComputeBundleDigest(std::vector<std::string> payload_digests);
// Canonical: SHA-256 of the compact JSON (sorted keys) of {name, version,
// run, env, reboot, files: [{path, mode (with type bits), sha256}] sorted by
// path}. Every file's sha256 must be set.
std::string ComputePayloadDigest(const BundlePayload& payload);

// "GITDISC_" + first 24 hex digits of the digest.
std::string VolumeIdForDigest(const std::string& bundle_digest);
// The 16 decimal digits recorded as the volume UUID (the PVD creation and
// modification time fields, which blkid reports as UUID): digit i = hex
// digit i of the digest, mod 10.
std::string VolumeUuidForDigest(const std::string& bundle_digest);

// Bundle digest when every payload digest is known; kInvalid otherwise.
Result<std::string> KnownBundleDigest(const Bundle& bundle);

// Structural checks the writer relies on: valid, unique payload names; valid,
// unique file paths, no file below another file; symlinks with targets,
// regular files with `open`; modes <= 0777; digests well formed when given.
Status ValidateBundle(const Bundle& bundle);

// The epoch to stamp: source_date_epoch, else $SOURCE_DATE_EPOCH (when
// `env_value` parses), else kDefaultSourceDateEpoch.
int64_t EffectiveSourceDateEpoch(int64_t source_date_epoch, const char* env_value);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_BUNDLE_H_
