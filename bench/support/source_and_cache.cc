#include "bench/support/source_and_cache.h"

#include "bench/support/bench_main.h"

namespace gitdisc::bench {

SourceAndCache OpenSourceAndCache(specs::GitLibrary& git, const std::string& repo,
                          const std::string& state_dir) {
  specs::SourceOptions so;
  so.repo = repo;
  so.state_dir = state_dir;
  auto source = specs::Source::Open(git, so);
  if (!source.ok()) Die("open source", source.status());
  iso::IsoCacheOptions co;
  co.dir = state_dir + "/isos";
  auto cache = iso::IsoCache::Open(co);
  if (!cache.ok()) Die("open cache", cache.status());
  return {std::move(source).value(), std::move(cache).value()};
}

}  // namespace gitdisc::bench
