// UnpackArchive: an artifact archive (`unpack: true` on a `file:` or `url:`
// payload, DESIGN.md §3) extracted into a folder with libarchive — tar
// (ustar, pax, GNU), optionally gzip-, xz- or bzip2-compressed, and zip.
//
// The archive is untrusted input (whoever publishes the artifact), so only
// what a payload folder may hold comes out: regular files, folders and
// symbolic links that stay inside the folder. Refused, with the entry named:
// absolute paths, any `..` component, hard links, devices, FIFOs and sockets,
// an entry that appears twice, a path that runs through a symlink, more than
// `max_entries` entries or `max_bytes` of file data. Modes are normalised to
// 0755 (any execute bit) or 0644; owners and times are not kept.
//
// All or nothing: the folder is built under a temporary name beside `dest`
// and renamed to `dest` only when every entry was accepted; on failure
// nothing is left behind. Thread-compatible (no shared state).
#ifndef GITDISC_SPECS_ARCHIVE_UNPACK_H_
#define GITDISC_SPECS_ARCHIVE_UNPACK_H_

#include <cstdint>
#include <string>

#include "base/status.h"

namespace gitdisc::specs {

struct UnpackLimits {
  uint64_t max_bytes = 4ull << 30;  // sum of the regular files' sizes
  uint64_t max_entries = 100'000;
};

// `dest` must not exist; its parent must. kInvalid for an archive that breaks
// a rule above or that libarchive cannot read (message names the entry or the
// reason), kIo for local file system errors.
Status UnpackArchive(const std::string& archive_path, const std::string& dest,
                     const UnpackLimits& limits = {});

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_ARCHIVE_UNPACK_H_
