// The bundle ISO writer (libisofs): turns a Bundle into a byte-reproducible
// ISO 9660 image laid out as DESIGN.md §5 says:
//   /GITDISC.JSN          the canonical manifest (iso/manifest.h)
//   /P/<payload>/<path>   the payload files (Rock Ridge names, modes, symlinks;
//                          Joliet names for other readers)
// Volume ID "GITDISC_" + the first 24 hex digits of the bundle digest.
//
// One pass over the data: every file streams from its FileReader into the
// image while its SHA-256 is computed (and checked when the caller knew it).
// The manifest needs those digests, so it is the last file in the data area
// and is rendered when libisofs reaches it; its length is known up front
// because every digest is 64 characters. The volume descriptors precede the
// data, so they are written with placeholders for the bundle-derived volume ID
// and UUID, patched in place once the digest is known. Same bundle => same
// bytes, whether or not the digests were known before the build.
//
// The image goes to a temporary file next to `out_path`, is fsync'd and
// renamed; on any failure nothing is left behind.
//
// Thread-safety: WriteBundleIso may run concurrently in several threads (each
// call owns its libisofs image); libisofs itself is initialised once per
// process on first use.
#ifndef GITDISC_ISO_ISO_WRITER_H_
#define GITDISC_ISO_ISO_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "iso/bundle.h"
#include "iso/manifest.h"

namespace gitdisc::iso {

struct IsoWriteOptions {
  // Called on the calling thread as the image is written (bytes done, total).
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Free text stored as the Volume Set ID (e.g. `iso build --label`).
  std::string label;
};

struct IsoWriteResult {
  std::string bundle_digest;
  std::string volume_id;
  Manifest manifest;  // as written, with every digest filled in
  uint64_t image_bytes = 0;
};

// Writes the image of `bundle` to out_path. Fails with kInvalid for a bundle
// ValidateBundle rejects, kCorrupt when a file's bytes do not match its given
// sha256 or size, kIo for read/write failures.
Result<IsoWriteResult> WriteBundleIso(const Bundle& bundle, const std::string& out_path,
                                      const IsoWriteOptions& options = {});

// ISO level 3 (multi-extent files) when any file is >= 4 GiB, else 2.
int IsoLevelFor(const Bundle& bundle);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_ISO_WRITER_H_
