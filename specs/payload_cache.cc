#include "specs/payload_cache.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/git_tree.h"

namespace gitdisc::specs {
namespace {

constexpr int kCacheFormat = 1;
constexpr uint64_t kMaxCacheFileBytes = 256ull << 20;

bool IsTreeId(std::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

PayloadContentCache::PayloadContentCache(std::string state_dir, PayloadLimits limits)
    : dir_(state_dir.empty() ? std::string() : JoinPath(state_dir, "digests")), limits_(limits) {}

PayloadContentCache::Stats PayloadContentCache::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

Result<std::vector<PayloadFile>> PayloadContentCache::List(const RepoTree& tree,
                                                           std::string_view folder) {
  const auto* git = dynamic_cast<const GitTree*>(&tree);
  std::string id;
  if (git != nullptr) {
    auto folder_id = git->FolderId(folder);
    if (folder_id.ok()) id = std::move(folder_id).value();
    // Errors (missing folder, not a folder) are reported by ListPayloadFolder.
  }
  if (!id.empty()) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (const auto* hit = memory_.Find(id)) {
        ++stats_.memory_hits;
        return *hit;
      }
    }
    if (!dir_.empty()) {
      auto loaded = LoadFromDisk(id);
      if (loaded.ok()) {
        std::lock_guard<std::mutex> l(mu_);
        ++stats_.disk_hits;
        memory_.Put(id, *loaded);
        return loaded;
      }
    }
  }
  auto files = ListPayloadFolder(tree, folder, limits_);
  if (!files.ok()) return files;
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.misses;
    if (!id.empty()) memory_.Put(id, *files);
  }
  if (!id.empty() && !dir_.empty()) StoreOnDisk(id, *files);
  return files;
}

Result<std::string> EncodeFileList(const std::vector<PayloadFile>& files, std::string_view key) {
  nlohmann::json list = nlohmann::json::array();
  for (const PayloadFile& f : files) {
    nlohmann::json e = {{"path", f.path}, {"mode", f.mode}, {"size", f.size}, {"sha256", f.sha256}};
    if (f.is_symlink()) e["target"] = f.symlink_target;
    list.push_back(std::move(e));
  }
  nlohmann::json j = {{"format", kCacheFormat}, {"tree", key}, {"files", std::move(list)}};
  try {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    return Status::Invalid("a path is not UTF-8");
  }
}

Result<std::vector<PayloadFile>> DecodeFileList(std::string_view text, std::string_view key) {
  const std::string what = "file list " + std::string(key);
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (j.at("format").get<int>() != kCacheFormat || j.at("tree").get<std::string>() != key) {
      return Status::Corrupt(what + " does not match");
    }
    std::vector<PayloadFile> files;
    for (const nlohmann::json& f : j.at("files")) {
      PayloadFile p;
      p.path = f.at("path").get<std::string>();
      p.mode = f.at("mode").get<uint32_t>();
      p.size = f.at("size").get<uint64_t>();
      p.sha256 = f.at("sha256").get<std::string>();
      p.symlink_target = f.value("target", std::string());
      if (p.path.empty() || !IsSha256Hex(p.sha256) ||
          (p.mode != 0644 && p.mode != 0755 && p.mode != 0777)) {
        return Status::Corrupt(what + " holds a bad file record");
      }
      files.push_back(std::move(p));
    }
    return files;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corrupt(what + ": " + e.what());
  }
}

Result<std::vector<PayloadFile>> PayloadContentCache::LoadFromDisk(const std::string& id) const {
  if (!IsTreeId(id)) return Status::Invalid("not a tree id");
  auto text = ReadFile(JoinPath(dir_, id + ".json"), kMaxCacheFileBytes);
  if (!text.ok()) return text.status();
  return DecodeFileList(*text, id);
}

void PayloadContentCache::StoreOnDisk(const std::string& id,
                                      const std::vector<PayloadFile>& files) const {
  // A cache that cannot be written only costs a re-hash next time.
  if (!MakeDirs(dir_, 0700).ok()) return;
  auto encoded = EncodeFileList(files, id);
  if (!encoded.ok()) return;  // a path that is not UTF-8: keep it in memory only
  const std::string& text = *encoded;
  // Temp file + rename, without fsync: a torn entry after a crash fails the
  // parse / tree-id check on load and is simply recomputed, so durability is
  // not worth an fsync per folder (1,000 folders: ~20 s on a slow disk).
  std::random_device rd;
  std::string path = JoinPath(dir_, id + ".json");
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.good()) {
      f.close();
      ::unlink(tmp.c_str());
      return;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace gitdisc::specs
