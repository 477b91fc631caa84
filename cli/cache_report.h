// `gitdisc cache ls` and `gitdisc cache gc` over an IsoCache, a Provider and
// a PoolCollector (cmd_cache.cc builds the real ones; tests use a real cache
// in a temp folder and the recording fake provider).
//
// ls: the local image cache (STATE/isos: digest, size, last use, the VMs
// that pin it) against its bound, and the images in the `gitdisc` pools of
// the remote hosts. Exit 0, 2 error.
//
// gc: evicts unpinned images, least recently used first, until the cache is
// within its bound; then one round of the pool collector with the bundles
// the specs desire now (images unused for the grace period are deleted).
// Exit 0, 2 error.
#ifndef GITDISC_CLI_CACHE_REPORT_H_
#define GITDISC_CLI_CACHE_REPORT_H_

#include <set>
#include <string>

#include "cli/cli.h"
#include "iso/iso_cache.h"
#include "providers/provider.h"
#include "reconciler/pool_gc.h"

namespace gitdisc::cli {

int RunCacheLs(iso::IsoCache& cache, Provider* provider, bool json, Io& io);

int RunCacheGc(iso::IsoCache& cache, reconciler::PoolCollector& pools,
               const std::set<std::string>& desired_bundles, bool dry_run, bool json, Io& io);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_CACHE_REPORT_H_
