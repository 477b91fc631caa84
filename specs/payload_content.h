// Payload content: the files a payload delivers, listed from a RepoTree (a
// Git commit or a folder) with their modes and SHA-256 digests.
//
// A payload folder keeps Git's file modes (0644 / 0755) and symlinks whose
// target, resolved lexically inside the folder (following links to links,
// at most 40 hops), stays inside it. These are errors: the path is missing or
// not a folder, a symlink leaves the folder (absolute, or too many ".."), a
// symlink loop, a submodule, a file over the size limit, more files than the
// limit. Folders are implied by file paths (Git does not store empty ones).
//
// ListPayloadFolder is a pure function of the tree; PayloadContentCache (in
// payload_cache.h) memoises it by Git tree id. Thread-safe.
#ifndef GITDISC_SPECS_PAYLOAD_CONTENT_H_
#define GITDISC_SPECS_PAYLOAD_CONTENT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/repo_tree.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

struct PayloadFile {
  std::string path;            // relative to the payload folder, '/'-separated
  uint32_t mode = 0644;        // permission bits: 0644 or 0755; 0777 for a symlink
  uint64_t size = 0;           // bytes; the target's length for a symlink
  std::string sha256;          // of the content; of the target string for a symlink
  std::string symlink_target;  // non-empty exactly for symlinks, as stored

  bool is_symlink() const { return !symlink_target.empty(); }
  // Mode with POSIX type bits: 0100644, 0100755, or 0120777 for a symlink.
  uint32_t PosixMode() const { return is_symlink() ? 0120777u : (0100000u | (mode & 0777u)); }
  bool operator==(const PayloadFile&) const = default;
};

// Everything a consumer (ISO builder, planner) needs about one payload's
// content at one revision.
struct PayloadContent {
  std::vector<PayloadFile> files;  // sorted by path
  std::string digest;              // payload identity (payload_digest.h)
  std::string content_digest;      // ContentDigest(files)
  // Where the bytes are. path: sources: the payload folder inside the
  // revision's RepoTree (file f is at tree_folder + "/" + f.path). file:/url:
  // sources: the one verified artifact on local disk (tree_folder is "").
  // file:/url: with unpack: the extracted tree on local disk (file f is at
  // local_folder + "/" + f.path; tree_folder and local_path are "").
  std::string tree_folder;
  std::string local_path;
  std::string local_folder;
};

struct PayloadLimits {
  uint64_t max_file_bytes = 1ull << 30;  // one blob; larger blobs are refused unread
  uint64_t max_files = 100000;           // per payload folder
};

// Lists every file and symlink below `folder` of `tree`, sorted by path, with
// content digests (reads and hashes every blob). Errors carry the offending
// path (relative to the tree) but no spec position; see LocateError.
Result<std::vector<PayloadFile>> ListPayloadFolder(const RepoTree& tree, std::string_view folder,
                                                   const PayloadLimits& limits = {});

// The payload's file list as it will appear on the disc, for a `file:` or
// `url:` source without unpack (specs/unpacked_artifacts.h has the other): one file named ArtifactFileName(source), mode 0644, whose
// sha256 is the pinned digest and whose size is `size` (0 when not known yet;
// size is not part of the payload identity).
PayloadFile ArtifactPayloadFile(const PayloadSource& source, uint64_t size = 0);
// The basename of a file: path or of a url: URL's path (query and fragment
// dropped); "artifact" when nothing usable is left. "" for a path: source.
std::string ArtifactFileName(const PayloadSource& source);

// A located diagnostic for a payload whose content could not be listed: at
// the payload's path/file/url value when known, else at the payload entry.
Diagnostic LocateError(const Payload& payload, const Status& error);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_PAYLOAD_CONTENT_H_
