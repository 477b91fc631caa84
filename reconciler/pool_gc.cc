#include "reconciler/pool_gc.h"

#include <map>
#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace gitdisc::reconciler {
namespace {

using Records = std::map<std::string, int64_t>;  // "<host> <digest>" → unused since

Result<Records> LoadRecords(const std::string& path) {
  Records out;
  if (!PathExists(path)) return out;
  GITDISC_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 16u << 20));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j["unused"].is_object()) {
    return Status::Corrupt(path + ": not a pool collector state file");
  }
  for (auto& [k, v] : j["unused"].items()) {
    if (v.is_number_integer()) out[k] = v.get<int64_t>();
  }
  return out;
}

Status SaveRecords(const std::string& path, const Records& records) {
  nlohmann::json j = {{"unused", nlohmann::json::object()}};
  for (const auto& [k, v] : records) j["unused"][k] = v;
  return WriteFileAtomic(path, j.dump(1) + "\n");
}

}  // namespace

PoolCollector::PoolCollector(Provider* provider, PoolGcOptions options)
    : provider_(provider), options_(std::move(options)) {
  if (!options_.clock) options_.clock = &system_clock_;
}

Result<PoolGcReport> PoolCollector::Collect(const std::set<std::string>& desired_digests,
                                            bool dry_run) {
  std::lock_guard<std::mutex> l(mu_);
  GITDISC_ASSIGN_OR_RETURN(Records records, LoadRecords(options_.state_file));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(options_.clock->WallNow().time_since_epoch())
          .count();
  PoolGcReport report;
  Records next;
  for (const std::string& host : provider_->Hosts()) {
    auto images = provider_->ListPoolImages(host);
    if (!images.ok()) {
      report.errors.push_back(images.status().message());
      for (const auto& [k, v] : records) {
        if (k.compare(0, host.size() + 1, host + " ") == 0) next[k] = v;
      }
      continue;
    }
    for (const PoolImage& img : *images) {
      PoolGcReport::Image r{host, img, desired_digests.count(img.digest) > 0, 0, false, ""};
      const std::string key = host + " " + img.digest;
      if (!r.desired) {
        auto it = records.find(key);
        r.unused_since_unix = it == records.end() ? now : it->second;
        next[key] = r.unused_since_unix;
        if (now - r.unused_since_unix >= options_.grace.count()) {
          Status s = dry_run ? Status::Ok() : provider_->DeletePoolImage(host, img.digest);
          if (s.ok()) {
            r.deleted = true;
            next.erase(key);
          } else {
            r.kept_because = s.message();
          }
        }
      }
      if (r.deleted) {
        ++report.deleted;
      } else {
        report.bytes_left += img.bytes;
      }
      report.images.push_back(std::move(r));
    }
  }
  if (dry_run) return report;
  deletions_.fetch_add(static_cast<uint64_t>(report.deleted));
  pool_bytes_.store(report.bytes_left);
  GITDISC_RETURN_IF_ERROR(SaveRecords(options_.state_file, next));
  return report;
}

}  // namespace gitdisc::reconciler
