// The content-addressed image cache: STATE/isos/<bundle digest>.iso.
//
// Promises:
// - An image that exists is complete (built into a temp file, fsync'd,
//   renamed) and is never rebuilt: Ensure() of a cached bundle only marks it
//   used (its mtime, set from the injected Clock, is the LRU order).
// - Two builders of one digest never race, whether threads or processes: a
//   per-digest flock (STATE/isos/locks/<digest>.lock) serialises them and the
//   second finds the first one's image.
// - A size limit evicts least-recently-used images first, never a pinned one
//   and never one another builder holds locked. Pins live on disk
//   (STATE/isos/pins/<digest>/<owner>), so they survive a controller crash;
//   owners are free text (a VM key) stored percent-encoded.
//
// Thread-safe: one IsoCache may be used from many threads; several processes
// may share one cache folder.
#ifndef GITDISC_ISO_ISO_CACHE_H_
#define GITDISC_ISO_ISO_CACHE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "iso/bundle.h"
#include "iso/iso_writer.h"

namespace gitdisc::iso {

// The bound `gitdisc reconcile`/`serve` give the cache unless told
// otherwise (--cache-max, cache.maxBytes).
inline constexpr uint64_t kDefaultCacheMaxBytes = 10ull << 30;  // 10 GiB

struct IsoCacheOptions {
  std::string dir;               // STATE/isos; created when missing
  uint64_t max_bytes = 0;        // 0: unbounded
  const Clock* clock = nullptr;  // for LRU stamps; nullptr: the system clock
};

class IsoCache {
 public:
  static Result<std::unique_ptr<IsoCache>> Open(const IsoCacheOptions& options);

  // STATE/isos/<digest>.iso (whether or not it exists).
  std::string PathFor(const std::string& digest) const;
  bool Contains(const std::string& digest) const;

  // The image of `bundle`, built when missing. Every payload digest must be
  // known (kInvalid otherwise): the digest is the cache key. Evicts other
  // images afterwards when the cache is over its limit.
  Result<std::string> Ensure(const Bundle& bundle, const IsoWriteOptions& options = {});

  // Pins are idempotent; Unpin of an absent pin is not an error. A digest may
  // be pinned before its image exists: pin first, then Ensure, so that no
  // concurrent eviction can remove the image in between.
  Status Pin(const std::string& digest, const std::string& owner);
  Status Unpin(const std::string& digest, const std::string& owner);
  // digest -> owners, sorted.
  Result<std::map<std::string, std::vector<std::string>>> ListPins() const;

  // Bytes of all complete images (gitdisc_iso_cache_bytes).
  Result<uint64_t> TotalBytes() const;

  // One complete image of the cache (`gitdisc cache ls`).
  struct Entry {
    std::string digest;
    uint64_t bytes = 0;
    int64_t last_used_unix = 0;       // its LRU stamp
    std::vector<std::string> pinned;  // owners (VM keys), sorted; empty = evictable
  };
  // Every complete image, least recently used first.
  Result<std::vector<Entry>> List() const;

  uint64_t max_bytes() const { return options_.max_bytes; }
  // Images this object evicted since it was opened (gitdisc_cache_evictions_total).
  uint64_t evictions() const { return evictions_.load(); }

  // Removes least-recently-used, unpinned, unlocked images until the total
  // is within max_bytes (never `keep`). Returns the removed digests, oldest
  // first.
  Result<std::vector<std::string>> Evict(const std::string& keep = "");

 private:
  explicit IsoCache(IsoCacheOptions options);
  Status Touch(const std::string& path) const;

  IsoCacheOptions options_;
  SystemClock system_clock_;
  std::atomic<uint64_t> evictions_{0};
};

// Percent-encoding used for pin owner file names (exposed for tests).
std::string EncodePinOwner(const std::string& owner);
std::string DecodePinOwner(const std::string& encoded);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_ISO_CACHE_H_
