#include "cli/cache_report.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/byte_size.h"

namespace gitdisc::cli {
namespace {

using nlohmann::json;

std::string Short(const std::string& digest) { return digest.substr(0, 12); }

std::string When(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Bound(uint64_t max_bytes) {
  return max_bytes == 0 ? "unbounded" : "bound " + FormatByteSize(max_bytes);
}

}  // namespace

int RunCacheLs(iso::IsoCache& cache, Provider* provider, bool json_out, Io& io) {
  auto entries = cache.List();
  if (!entries.ok()) {
    io.err << "gitdisc cache ls: " << entries.status().message() << "\n";
    return kExitError;
  }
  uint64_t total = 0;
  json images = json::array();
  for (const auto& e : *entries) {
    total += e.bytes;
    images.push_back({{"digest", e.digest},
                      {"bytes", e.bytes},
                      {"lastUsed", When(e.last_used_unix)},
                      {"pinnedBy", e.pinned}});
  }
  json pools = json::array();
  if (provider) {
    for (const std::string& host : provider->Hosts()) {
      auto list = provider->ListPoolImages(host);
      if (!list.ok()) {
        io.err << "gitdisc cache ls: " << list.status().message() << "\n";
        return kExitError;
      }
      for (const PoolImage& p : *list) {
        pools.push_back({{"host", host},
                         {"digest", p.digest},
                         {"bytes", p.bytes},
                         {"path", p.path},
                         {"complete", p.complete}});
      }
    }
  }
  if (json_out) {
    io.out << json{{"schemaVersion", 1},
                   {"images", images},
                   {"bytes", total},
                   {"maxBytes", cache.max_bytes()},
                   {"pool", pools}}
                  .dump(2)
           << "\n";
    return kExitOk;
  }
  io.out << "image cache: " << entries->size() << " image(s), " << FormatByteSize(total) << " ("
         << Bound(cache.max_bytes()) << "), least recently used first\n";
  for (const auto& e : *entries) {
    io.out << "  " << Short(e.digest) << "  " << FormatByteSize(e.bytes) << "  used "
           << When(e.last_used_unix);
    if (!e.pinned.empty()) {
      io.out << "  pinned by";
      for (const std::string& o : e.pinned) io.out << " " << o;
    }
    io.out << "\n";
  }
  for (const json& p : pools) {
    io.out << "pool " << p["host"].get<std::string>() << ": "
           << Short(p["digest"].get<std::string>()) << "  "
           << FormatByteSize(p["bytes"].get<uint64_t>())
           << (p["complete"].get<bool>() ? "" : "  (upload unfinished)") << "\n";
  }
  return kExitOk;
}

int RunCacheGc(iso::IsoCache& cache, reconciler::PoolCollector& pools,
               const std::set<std::string>& desired_bundles, bool dry_run, bool json_out, Io& io) {
  std::vector<std::string> evicted;
  if (!dry_run) {
    auto r = cache.Evict();
    if (!r.ok()) {
      io.err << "gitdisc cache gc: " << r.status().message() << "\n";
      return kExitError;
    }
    evicted = std::move(r).value();
  }
  auto report = pools.Collect(desired_bundles, dry_run);
  if (!report.ok()) {
    io.err << "gitdisc cache gc: " << report.status().message() << "\n";
    return kExitError;
  }
  auto bytes = cache.TotalBytes();
  if (json_out) {
    json images = json::array();
    for (const auto& i : report->images) {
      images.push_back({{"host", i.host},
                        {"digest", i.image.digest},
                        {"bytes", i.image.bytes},
                        {"desired", i.desired},
                        {"unusedSince", i.unused_since_unix ? When(i.unused_since_unix) : ""},
                        {"deleted", i.deleted},
                        {"keptBecause", i.kept_because}});
    }
    io.out << json{{"schemaVersion", 1},
                   {"dryRun", dry_run},
                   {"evicted", evicted},
                   {"bytes", bytes.ok() ? *bytes : 0},
                   {"maxBytes", cache.max_bytes()},
                   {"pool", images},
                   {"poolErrors", report->errors}}
                  .dump(2)
           << "\n";
    return kExitOk;
  }
  for (const std::string& d : evicted) io.out << "evicted " << Short(d) << "\n";
  io.out << "image cache: " << (bytes.ok() ? FormatByteSize(*bytes) : "?") << " ("
         << Bound(cache.max_bytes()) << "), " << evicted.size() << " evicted\n";
  for (const auto& i : report->images) {
    if (i.desired) continue;
    io.out << "pool " << i.host << ": " << Short(i.image.digest) << " unused since "
           << When(i.unused_since_unix) << ": "
           << (i.deleted                 ? (dry_run ? "would delete" : "deleted")
               : !i.kept_because.empty() ? "kept: " + i.kept_because
                                         : "kept (grace period)")
           << "\n";
  }
  for (const std::string& e : report->errors) io.err << "gitdisc cache gc: " << e << "\n";
  return kExitOk;
}

}  // namespace gitdisc::cli
