// CacheImages: the ImageSource (reconciler/executor.h) the controller's
// workers use — images from the ISO cache, built from one snapshot's bundles
// when missing (DESIGN.md §5), pinned for the VM that inserts them.
//
// Thread-safety: one CacheImages per worker and key; every CacheImages of a
// controller shares one build mutex, so VMs worked on at once build a bundle
// they share once (the others wait and reuse it) and one build runs at a
// time. The build mutex is a leaf: nothing else is locked while it is held.
#ifndef GITDISC_RECONCILER_CACHE_IMAGES_H_
#define GITDISC_RECONCILER_CACHE_IMAGES_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "iso/iso_cache.h"
#include "reconciler/desired.h"
#include "reconciler/executor.h"
#include "specs/source.h"

namespace gitdisc::reconciler {

class CacheImages final : public ImageSource {
 public:
  // `on_build(digest, built)` after every Ensure of a desired bundle: built
  // false when the cache already had it.
  CacheImages(std::mutex* build_mu, iso::IsoCache* cache,
              std::shared_ptr<const specs::Snapshot> snap, const DesiredBuild* desired,
              std::vector<std::string> roots,
              std::function<void(const std::string&, bool)> on_build);

  Result<std::string> Ensure(const std::string& digest, const std::string& owner) override;
  void Release(const std::string& digest, const std::string& owner) override;
  std::vector<std::string> Roots() const override { return roots_; }

 private:
  std::mutex& mu_;
  iso::IsoCache* cache_;
  std::shared_ptr<const specs::Snapshot> snap_;
  const DesiredBuild* desired_;
  std::vector<std::string> roots_;
  std::function<void(const std::string&, bool)> on_build_;
};

// The folders whose <digest>.iso images are ours: `extra` (remote pool
// folders) and the cache's own folder.
std::vector<std::string> OurImageRoots(const iso::IsoCache& cache,
                                       const std::vector<std::string>& extra);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_CACHE_IMAGES_H_
