// The controller's side of a benchmark fleet: the Git source of a fleet
// repository and the ISO cache, both under one state folder laid out as the
// daemon lays out its own (STATE/ for mirrors, STATE/isos for images). Any
// error ends the benchmark (Die).
#ifndef GITDISC_BENCH_SUPPORT_SOURCE_AND_CACHE_H_
#define GITDISC_BENCH_SUPPORT_SOURCE_AND_CACHE_H_

#include <memory>
#include <string>

#include "iso/iso_cache.h"
#include "specs/git_library.h"
#include "specs/source.h"

namespace gitdisc::bench {

struct SourceAndCache {
  std::unique_ptr<specs::Source> source;
  std::unique_ptr<iso::IsoCache> cache;
};

// `git` must outlive the returned source.
SourceAndCache OpenSourceAndCache(specs::GitLibrary& git, const std::string& repo,
                          const std::string& state_dir);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_SOURCE_AND_CACHE_H_
