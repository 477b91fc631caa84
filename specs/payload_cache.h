// PayloadContentCache: payload folder listings (files, modes, sizes,
// SHA-256s) memoised by Git tree id, so a folder that did not change between
// commits is never hashed again — in this process (memory) or the next one
// (STATE/digests/<tree id>.json, written to a temp file and renamed;
// not fsync'd: a torn entry fails its checks and is recomputed).
//
// A Git tree id names the folder's exact content, so an entry never goes
// stale. The memory holds the most recently used kMemoryEntries listings
// (a caller asking for many revisions cannot grow it); the disk keeps one
// small file per distinct folder version. A cache file that does not parse, or whose tree id does not match
// its name, is ignored and rewritten. Trees that are not Git trees (folders)
// are listed without caching.
//
// Thread-safe: lookups and inserts are serialised by a mutex; two threads
// listing the same new folder at once may both hash it (same answer).
#ifndef GITDISC_SPECS_PAYLOAD_CACHE_H_
#define GITDISC_SPECS_PAYLOAD_CACHE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/lru_map.h"
#include "base/status.h"
#include "specs/payload_content.h"
#include "specs/repo_tree.h"

namespace gitdisc::specs {

// The JSON form of a file list kept on disk (here and beside unpacked
// artifacts, specs/unpacked_artifacts.h): [{"path","mode","size","sha256"
// [,"target"]}…]. Decoding checks every record (kCorrupt when one is bad);
// encoding fails (kInvalid) for a path that is not UTF-8.
Result<std::string> EncodeFileList(const std::vector<PayloadFile>& files, std::string_view key);
// `key` must match the one the list was encoded with.
Result<std::vector<PayloadFile>> DecodeFileList(std::string_view text, std::string_view key);

class PayloadContentCache {
 public:
  // state_dir empty: memory only.
  explicit PayloadContentCache(std::string state_dir, PayloadLimits limits = {});

  // ListPayloadFolder(tree, folder), through the cache when `tree` is a GitTree.
  Result<std::vector<PayloadFile>> List(const RepoTree& tree, std::string_view folder);

  struct Stats {
    uint64_t memory_hits = 0;
    uint64_t disk_hits = 0;
    uint64_t misses = 0;  // folders listed and hashed
  };
  Stats stats() const;
  const PayloadLimits& limits() const { return limits_; }

 private:
  Result<std::vector<PayloadFile>> LoadFromDisk(const std::string& tree_id) const;
  void StoreOnDisk(const std::string& tree_id, const std::vector<PayloadFile>& files) const;

  const std::string dir_;  // STATE/digests, or "" for memory only
  const PayloadLimits limits_;
  mutable std::mutex mu_;
  static constexpr size_t kMemoryEntries = 4096;
  LruMap<std::string, std::vector<PayloadFile>> memory_{kMemoryEntries};
  Stats stats_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_PAYLOAD_CACHE_H_
