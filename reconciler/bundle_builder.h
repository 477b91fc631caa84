// BundleBuilder: turns the payloads of one bundle (read from a revision's
// snapshot) into an iso::Bundle whose files stream from Git blobs or verified
// artifact files, and makes sure the image is in the content-addressed cache
// (STATE/isos/<digest>.iso). An image that exists is never rebuilt: the key is
// content, not commit (DESIGN.md §5).
//
// The snapshot is shared (kept alive by the file callbacks). Thread-compatible;
// the cache itself serialises concurrent builds of one digest.
#ifndef GITDISC_RECONCILER_BUNDLE_BUILDER_H_
#define GITDISC_RECONCILER_BUNDLE_BUILDER_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "iso/bundle.h"
#include "iso/iso_cache.h"
#include "specs/desired_state.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

// The disc content for `payloads` at `snapshot`.
Result<iso::Bundle> MakeBundle(std::shared_ptr<const specs::Snapshot> snapshot,
                               const std::vector<specs::DesiredPayload>& payloads);

struct EnsuredImage {
  std::string digest;
  std::string path;
  bool built = false;  // false: it was already in the cache
};

// Pins the digest for `owner` (so eviction never removes it while a VM may
// read it), then builds the image when missing. The caller unpins after the
// eject.
Result<EnsuredImage> EnsureImage(iso::IsoCache& cache,
                                 std::shared_ptr<const specs::Snapshot> snapshot,
                                 const std::string& bundle_digest,
                                 const std::vector<specs::DesiredPayload>& payloads,
                                 const std::string& owner);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_BUNDLE_BUILDER_H_
