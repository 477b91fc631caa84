#include "iso/bundle.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "base/sha256.h"

namespace gitdisc::iso {
namespace {

class DiskFileReader final : public FileReader {
 public:
  DiskFileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~DiskFileReader() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path_, errno);
    }
  }

 private:
  int fd_;
  std::string path_;
};

class StringReader final : public FileReader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

Result<std::unique_ptr<FileReader>> OpenDiskFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<FileReader>(new DiskFileReader(fd, path));
}

std::unique_ptr<FileReader> MemoryReader(std::string data) {
  return std::make_unique<StringReader>(std::move(data));
}

bool IsValidPayloadName(std::string_view name) {
  if (name.empty() || name.size() > 63 || !IsAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidRelativePath(std::string_view path) {
  if (path.empty() || path.size() > 4096) return false;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.size() > 255) return false;
    if (part.find('\0') != std::string_view::npos) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::string ComputeBundleDigest(std::vector<std::string> payload_digests) {
  std::sort(payload_digests.begin(), payload_digests.end());
  std::string joined;
  for (size_t i = 0; i < payload_digests.size(); ++i) {
    if (i) joined += '\n';
    joined += payload_digests[i];
  }
  return Sha256Hex(joined);
}

std::string ComputePayloadDigest(const BundlePayload& payload) {
  nlohmann::json files = nlohmann::json::array();
  std::vector<const BundleFile*> sorted;
  for (const BundleFile& f : payload.files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(),
            [](const BundleFile* a, const BundleFile* b) { return a->path < b->path; });
  for (const BundleFile* f : sorted) {
    uint32_t mode = f->is_symlink() ? (kModeSymlink | 0777) : (kModeRegular | (f->mode & 0777));
    files.push_back({{"path", f->path}, {"mode", mode}, {"sha256", f->sha256}});
  }
  nlohmann::json j = {{"name", payload.name},     {"version", payload.version},
                      {"run", payload.run},       {"env", payload.env},
                      {"reboot", payload.reboot}, {"files", std::move(files)}};
  return Sha256Hex(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<std::string> KnownBundleDigest(const Bundle& bundle) {
  std::vector<std::string> digests;
  for (const BundlePayload& p : bundle.payloads) {
    if (p.digest.empty()) {
      return Status::Invalid("payload " + p.name + " has no digest yet");
    }
    digests.push_back(p.digest);
  }
  return ComputeBundleDigest(std::move(digests));
}

Status ValidateBundle(const Bundle& bundle) {
  std::set<std::string> names;
  for (const BundlePayload& p : bundle.payloads) {
    if (!IsValidPayloadName(p.name)) {
      return Status::Invalid("payload name \"" + p.name +
                             "\" is not valid (1-63 of [A-Za-z0-9._-], starting alphanumeric)");
    }
    if (!names.insert(p.name).second) return Status::Invalid("payload " + p.name + " twice");
    if (!p.digest.empty() && !IsSha256Hex(p.digest)) {
      return Status::Invalid("payload " + p.name + ": digest is not 64 hex digits");
    }
    if (p.reboot != "never" && p.reboot != "ifRequested" && p.reboot != "always") {
      return Status::Invalid("payload " + p.name + ": reboot must be never|ifRequested|always");
    }
    if (p.timeout_seconds <= 0) return Status::Invalid("payload " + p.name + ": timeout <= 0");
    std::set<std::string> paths;
    for (const BundleFile& f : p.files) {
      std::string where = "payload " + p.name + ", file \"" + f.path + "\"";
      if (!IsValidRelativePath(f.path)) return Status::Invalid(where + ": path not valid");
      if (!paths.insert(f.path).second) return Status::Invalid(where + ": listed twice");
      if (f.mode & ~0777u) return Status::Invalid(where + ": mode beyond 0777");
      if (!f.sha256.empty() && !IsSha256Hex(f.sha256)) {
        return Status::Invalid(where + ": sha256 is not 64 hex digits");
      }
      if (f.is_symlink()) {
        if (f.symlink_target.find('\0') != std::string::npos) {
          return Status::Invalid(where + ": symlink target holds NUL");
        }
      } else if (!f.open) {
        return Status::Invalid(where + ": no content source");
      }
    }
    // A file may not also be a folder of another file ("a" and "a/b").
    for (const std::string& path : paths) {
      auto lo = paths.lower_bound(path + "/");
      if (lo != paths.end() && lo->compare(0, path.size() + 1, path + "/") == 0) {
        return Status::Invalid("payload " + p.name + ": \"" + path +
                               "\" is a file and a folder of \"" + *lo + "\"");
      }
    }
  }
  return Status::Ok();
}

std::string VolumeIdForDigest(const std::string& bundle_digest) {
  return "GITDISC_" + bundle_digest.substr(0, 24);
}

std::string VolumeUuidForDigest(const std::string& bundle_digest) {
  std::string out;
  for (size_t i = 0; i < 16 && i < bundle_digest.size(); ++i) {
    char c = bundle_digest[i];
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : 0;
    out += static_cast<char>('0' + v % 10);
  }
  return out;
}

int64_t EffectiveSourceDateEpoch(int64_t source_date_epoch, const char* env_value) {
  if (source_date_epoch > 0) return source_date_epoch;
  if (env_value && *env_value) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(env_value, &end, 10);
    if (errno == 0 && end && *end == '\0' && v > 0) return v;
  }
  return kDefaultSourceDateEpoch;
}

}  // namespace gitdisc::iso
