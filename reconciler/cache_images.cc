#include "reconciler/cache_images.h"

#include <utility>

#include "reconciler/bundle_builder.h"

namespace gitdisc::reconciler {

CacheImages::CacheImages(std::mutex* build_mu, iso::IsoCache* cache,
                         std::shared_ptr<const specs::Snapshot> snap, const DesiredBuild* desired,
                         std::vector<std::string> roots,
                         std::function<void(const std::string&, bool)> on_build)
    : mu_(*build_mu),
      cache_(cache),
      snap_(std::move(snap)),
      desired_(desired),
      roots_(std::move(roots)),
      on_build_(std::move(on_build)) {}

Result<std::string> CacheImages::Ensure(const std::string& digest, const std::string& owner) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = desired_->bundles.find(digest);
  if (it == desired_->bundles.end()) {
    GITDISC_RETURN_IF_ERROR(cache_->Pin(digest, owner));
    if (cache_->Contains(digest)) return cache_->PathFor(digest);
    return Status::NotFound("bundle " + digest + " is not desired at this revision");
  }
  GITDISC_ASSIGN_OR_RETURN(EnsuredImage img, EnsureImage(*cache_, snap_, digest, it->second, owner));
  if (on_build_) on_build_(digest, img.built);
  return img.path;
}

void CacheImages::Release(const std::string& digest, const std::string& owner) {
  (void)cache_->Unpin(digest, owner);
}

std::vector<std::string> OurImageRoots(const iso::IsoCache& cache,
                                       const std::vector<std::string>& extra) {
  std::vector<std::string> roots = extra;
  std::string p = cache.PathFor(std::string(64, '0'));
  roots.push_back(p.substr(0, p.rfind('/')));
  return roots;
}

}  // namespace gitdisc::reconciler
