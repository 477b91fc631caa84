// The state of one bundle ISO build (internal to iso/), shared by
// WriteBundleIso and the libisofs streams that feed the image
// (iso/bundle_stream.h): one slot per bundle file with the digest computed
// while it streamed, the manifest rendered once every digest is known, and
// the first failure of any stream.
//
// Thread-safety: libisofs reads the streams on its own writer thread while
// the caller's thread drains the image. Slots and the manifest are touched by
// that one writer thread (after set-up); `failed` may be read by any thread,
// and the first error is guarded by `mu`.
#ifndef GITDISC_ISO_IMAGE_BUILD_STATE_H_
#define GITDISC_ISO_IMAGE_BUILD_STATE_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "iso/bundle.h"
#include "iso/manifest.h"

namespace gitdisc::iso {

// Stands for every digest not known yet: the same width as a real one, so
// the manifest's length is known before the data is read.
inline constexpr char kZeroDigest[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One file slot of the build: what streamed, and what came out.
struct Slot {
  size_t payload = 0;
  size_t file = 0;
  std::string digest;  // computed while streaming
  bool done = false;
};

struct BuildState {
  const Bundle* bundle = nullptr;
  std::vector<Slot> slots;
  std::vector<std::vector<size_t>> slot_of;  // [payload][file] -> slot index
  size_t manifest_size = 0;
  std::string manifest_text;  // the final manifest, rendered when libisofs reaches it
  Manifest manifest;
  std::string bundle_digest;

  std::atomic<bool> failed{false};
  std::mutex mu;
  Status error;  // first failure, guarded by mu

  void Fail(Status s);
  Status FirstError();
};

// "payload NAME, file "PATH"": where a failure of `slot` happened.
std::string Where(const BuildState& st, const Slot& slot);

// Builds the manifest from the bundle and the digests known so far; unknown
// digests are kZeroDigest (same width, so the length does not change).
Manifest BuildManifest(const BuildState& st);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_IMAGE_BUILD_STATE_H_
