// ArtifactStore: the bytes of `file:` and `url:` payload sources (DESIGN.md
// §3), always checked against the digest pinned in the spec.
//
//   file: → only from the artifact roots the operator configured
//           (specs/artifact_roots.h: none by default, never through a symlink
//           out of a root); read and hashed where it is; a digest mismatch is
//           an error (kCorrupt). A file already verified in this process is
//           not hashed again unless its size, mtime, inode or device changed.
//   url:  → downloaded once (specs/url_fetch.h: https only unless allowed,
//           redirects within the same scheme, one deadline, size checked
//           while streaming) into STATE/artifacts/<sha256> (0700; streamed
//           into a temp file in the same folder, hashed on the way, fsync'd,
//           renamed only when the digest matches — mismatching bytes are
//           deleted, never kept or delivered); later calls reuse the stored
//           file (re-verified once per process; a damaged one is deleted and
//           fetched again).
//
// Sizes over `max_bytes` are refused (kInvalid) without reading further.
// Errors never carry a digest of what was read (a mismatch says only that it
// does not match: the status API shows errors, and a digest of a file is an
// oracle for its content) nor a URL's userinfo or query. Thread-safe.
#ifndef GITDISC_SPECS_ARTIFACT_STORE_H_
#define GITDISC_SPECS_ARTIFACT_STORE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include <vector>

#include "base/status.h"
#include "base/unique_fd.h"
#include "specs/artifact_roots.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

struct ArtifactLimits {
  uint64_t max_bytes = 4ull << 30;  // 4 GiB
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds read_timeout{120};   // between two reads of the body
  std::chrono::seconds total_timeout{900};  // a whole url: download
};

// What the operator allows (not the spec author).
struct ArtifactPolicy {
  std::vector<std::string> file_roots;  // folders file: artifacts may come from
  bool allow_http = false;              // url: artifacts over plain http://
};

// A verified artifact on local disk.
struct LocalArtifact {
  std::string path;  // read it from here (the file: path itself, or STATE/artifacts/<sha256>)
  uint64_t size = 0;
  std::string sha256;  // lower-case hex, equal to the pinned digest
};

class ArtifactStore {
 public:
  // state_dir: where STATE/artifacts lives (needed for url: sources only).
  explicit ArtifactStore(std::string state_dir, ArtifactLimits limits = {},
                         ArtifactPolicy policy = {});

  Result<LocalArtifact> Get(const FileSource& source);
  Result<LocalArtifact> Get(const UrlSource& source);
  // Dispatches on the source; kInvalid for a path: source.
  Result<LocalArtifact> Get(const PayloadSource& source);

  // The stored path of a url: artifact, whether or not it is there yet.
  std::string StoredPath(const std::string& sha256) const;

 private:
  Result<LocalArtifact> VerifyLocal(UniqueFd fd, const std::string& path,
                                    const std::string& sha256, const std::string& what);
  Result<LocalArtifact> Download(const UrlSource& source, const std::string& sha256);

  const std::string dir_;  // STATE/artifacts
  const ArtifactLimits limits_;
  const ArtifactPolicy policy_;
  const ArtifactRoots roots_;
  std::mutex mu_;
  // (path, dev, ino, size, mtime ns) → digest verified in this process.
  std::map<std::tuple<std::string, uint64_t, uint64_t, uint64_t, int64_t>, std::string> verified_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_ARTIFACT_STORE_H_
