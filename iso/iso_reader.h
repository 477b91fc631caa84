// The bundle ISO reader and verifier, used by `gitdisc iso verify` on the
// host and by gitdisc-agent inside guests (it links statically).
//
// Opens an image file or a block device (/dev/sr0), reads the whole directory
// tree once (ISO 9660 + Rock Ridge names, modes and symlinks, multi-extent
// files >= 4 GiB), and then reads files, the manifest, verifies the disc
// against its manifest, or extracts a payload folder (the fallback when the
// guest kernel cannot mount iso9660).
//
// Blocks are read through libiso9660 (libcdio). The directory records and
// their Rock Ridge (SUSP/RRIP) fields are parsed here: libcdio 2.1 ignores
// SUSP continuation areas (CE), so it truncates long names, and it has no
// multi-extent files. The parser treats the disc as hostile: every length and
// offset is bounds-checked, trees are bounded in entries and depth, loops are
// refused, names may not contain '/' or be "." / "..". Errors are kCorrupt.
//
// Thread-safety: an IsoReader may be shared between threads; block reads are
// serialised internally.
#ifndef GITDISC_ISO_ISO_READER_H_
#define GITDISC_ISO_ISO_READER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "iso/manifest.h"

namespace gitdisc::iso {

struct IsoEntry {
  enum class Type { kFile, kDir, kSymlink };
  std::string path;  // from the disc root, no leading '/': "P/motd/install.sh"
  Type type = Type::kFile;
  uint32_t mode = 0;  // POSIX mode with type bits; from Rock Ridge when present
  uint64_t size = 0;  // bytes (files); target length (symlinks)
  std::string symlink_target;
  struct Extent {
    uint32_t lba = 0;
    uint32_t bytes = 0;
  };
  std::vector<Extent> extents;  // file data, in order
};

struct IsoOpenOptions {
  // Keep retrying a failed open/first read for this long: right after a media
  // change the first reads of a drive can fail (unit attention).
  std::chrono::milliseconds retry_for{0};
  std::chrono::milliseconds retry_interval{100};
};

struct VerifyProblem {
  std::string path;    // disc path ("P/motd/install.sh"), or "(volume)"
  std::string reason;  // "sha256 differs", "missing", "not in the manifest", ...
};

struct VerifyReport {
  Manifest manifest;
  std::vector<VerifyProblem> mismatches;  // present but wrong (content, size, mode, type)
  std::vector<VerifyProblem> missing;     // in the manifest, not on the disc
  std::vector<VerifyProblem> extra;       // on the disc, not in the manifest
  bool ok() const { return mismatches.empty() && missing.empty() && extra.empty(); }
};

// Process-wide: replaces libcdio's default log handler, which calls exit() on
// an error (a bad sector, a garbage image, the first read after a media
// change), with one that prints warnings to stderr prefixed by `program` and
// never exits; the reader reports such failures as a Status instead. Mains of
// programs that read discs call this once, before any other thread starts.
void RouteLibcdioLogs(const char* program);

class IsoReader {
 public:
  // Opens and indexes the image. kNotFound/kIo when it cannot be read (after
  // retries), kCorrupt when it is not a well-formed ISO 9660 image.
  static Result<std::unique_ptr<IsoReader>> Open(const std::string& path,
                                                 const IsoOpenOptions& options = {});
  ~IsoReader();
  IsoReader(const IsoReader&) = delete;
  IsoReader& operator=(const IsoReader&) = delete;

  const std::string& volume_id() const { return volume_id_; }
  // Every file, folder and symlink, sorted by path.
  const std::vector<IsoEntry>& entries() const { return entries_; }
  // The entry at a disc path ("GITDISC.JSN", "P/motd/x"), or nullptr.
  const IsoEntry* Find(std::string_view path) const;

  // Streams a file's bytes to `sink` in chunks (up to 1 MiB); stops at the
  // first non-ok status from the sink and returns it.
  Status ReadFile(const IsoEntry& entry,
                  const std::function<Status(std::string_view chunk)>& sink) const;
  Result<std::string> ReadFileToString(std::string_view path, uint64_t max_bytes) const;

  // Reads and strictly parses /GITDISC.JSN (iso/manifest.h).
  Result<Manifest> ReadManifest() const;

  // Checks the disc against its manifest: the volume ID names the bundle
  // digest, every listed file exists with its type, size, mode and SHA-256,
  // and nothing else is on the disc. Fails (not a report) when the manifest
  // itself is unreadable or malformed.
  Result<VerifyReport> Verify() const;
  // The same checks without reading file contents (types, modes, sizes,
  // symlink targets, nothing extra): for a reader that hashes the files it
  // copies itself (gitdisc-agent), so the disc is read once.
  Result<VerifyReport> VerifyLayout() const;

  // Copies payload `name` (as listed in `manifest`) into dest_dir, which must
  // not exist or be empty: folders 0755, files with their mode, symlinks as
  // stored. Each file's SHA-256 is checked while copying; on any failure the
  // files created so far are removed and kCorrupt/kIo is returned. Files are
  // created with O_EXCL|O_NOFOLLOW, never through a symlink.
  Status ExtractPayload(const Manifest& manifest, std::string_view name,
                        const std::string& dest_dir) const;

 private:
  struct Handle;
  IsoReader() = default;
  Status ReadBlocks(uint32_t lba, uint32_t count, char* out) const;
  Result<VerifyReport> Check(bool read_contents) const;
  Status Index();
  Status ParseDir(uint32_t lba, uint32_t bytes, const std::string& prefix, int depth,
                  std::vector<uint32_t>* stack);

  std::string path_;
  std::unique_ptr<Handle> handle_;
  mutable std::mutex mu_;  // serialises block reads
  uint32_t volume_blocks_ = 0;
  std::string volume_id_;
  std::vector<IsoEntry> entries_;
};

const char* IsoEntryTypeName(IsoEntry::Type type);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_ISO_READER_H_
