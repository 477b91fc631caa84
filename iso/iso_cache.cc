#include "iso/iso_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <tuple>

#include "base/file_util.h"
#include "base/sha256.h"

namespace gitdisc::iso {
namespace {

// An flock held for the lifetime of the object.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path, bool wait) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno("open lock " + path, errno);
    while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Status::Conflict(path + " is locked");
      return Status::FromErrno("flock " + path, err);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// A missing folder holds nothing.
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  auto names = ListFolder(dir);
  if (names.status().IsNotFound()) return std::vector<std::string>{};
  return names;
}

bool IsImageName(const std::string& n) {
  return n.size() == 68 && n.compare(64, 4, ".iso") == 0 && IsSha256Hex(n.substr(0, 64));
}

bool IsLowerDigest(const std::string& d) {
  if (!IsSha256Hex(d)) return false;
  for (char c : d) {
    if (c >= 'A' && c <= 'F') return false;
  }
  return true;
}

}  // namespace

std::string EncodePinOwner(const std::string& owner) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : owner) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || (c == '.' && !out.empty());
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string DecodePinOwner(const std::string& encoded) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() && hex(encoded[i + 1]) >= 0 &&
        hex(encoded[i + 2]) >= 0) {
      out += static_cast<char>(hex(encoded[i + 1]) * 16 + hex(encoded[i + 2]));
      i += 2;
    } else {
      out += encoded[i];
    }
  }
  return out;
}

IsoCache::IsoCache(IsoCacheOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = &system_clock_;
}

Result<std::unique_ptr<IsoCache>> IsoCache::Open(const IsoCacheOptions& options) {
  if (options.dir.empty()) return Status::Invalid("iso cache: no folder given");
  GITDISC_RETURN_IF_ERROR(MakeDirs(JoinPath(options.dir, "locks")));
  GITDISC_RETURN_IF_ERROR(MakeDirs(JoinPath(options.dir, "pins")));
  return std::unique_ptr<IsoCache>(new IsoCache(options));
}

std::string IsoCache::PathFor(const std::string& digest) const {
  return JoinPath(options_.dir, digest + ".iso");
}

bool IsoCache::Contains(const std::string& digest) const { return PathExists(PathFor(digest)); }

Status IsoCache::Touch(const std::string& path) const {
  auto now = options_.clock->WallNow().time_since_epoch();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = static_cast<time_t>(ns / 1000000000);
  ts[0].tv_nsec = ts[1].tv_nsec = static_cast<long>(ns % 1000000000);
  if (::utimensat(AT_FDCWD, path.c_str(), ts, 0) != 0) {
    return Status::FromErrno("touch " + path, errno);
  }
  return Status::Ok();
}

Result<std::string> IsoCache::Ensure(const Bundle& bundle, const IsoWriteOptions& options) {
  GITDISC_ASSIGN_OR_RETURN(std::string digest, KnownBundleDigest(bundle));
  const std::string path = PathFor(digest);
  {
    GITDISC_ASSIGN_OR_RETURN(
        FileLock lock,
        FileLock::Acquire(JoinPath(options_.dir, "locks/" + digest + ".lock"), true));
    if (!PathExists(path)) {
      // Temp files of this digest can only be leftovers of a crashed builder:
      // a live one would hold the lock.
      GITDISC_ASSIGN_OR_RETURN(auto names, ListDir(options_.dir));
      std::string prefix = "." + digest + ".iso.tmp-";
      for (const std::string& n : names) {
        if (n.compare(0, prefix.size(), prefix) == 0) {
          ::unlink(JoinPath(options_.dir, n).c_str());
        }
      }
      GITDISC_ASSIGN_OR_RETURN(IsoWriteResult written, WriteBundleIso(bundle, path, options));
      if (written.bundle_digest != digest) {
        ::unlink(path.c_str());
        return Status::Internal("iso cache: built " + written.bundle_digest + " for key " + digest);
      }
    }
    GITDISC_RETURN_IF_ERROR(Touch(path));
  }
  if (options_.max_bytes > 0) {
    auto evicted = Evict(digest);
    if (!evicted.ok()) return evicted.status().Annotate("iso cache eviction");
  }
  return path;
}

Status IsoCache::Pin(const std::string& digest, const std::string& owner) {
  if (!IsLowerDigest(digest)) return Status::Invalid("pin: \"" + digest + "\" is not a digest");
  if (owner.empty()) return Status::Invalid("pin: empty owner");
  GITDISC_ASSIGN_OR_RETURN(FileLock lock,
                           FileLock::Acquire(JoinPath(options_.dir, "locks/cache.lock"), true));
  std::string dir = JoinPath(options_.dir, "pins/" + digest);
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(JoinPath(dir, EncodePinOwner(owner)), owner + "\n");
}

Status IsoCache::Unpin(const std::string& digest, const std::string& owner) {
  if (!IsLowerDigest(digest)) return Status::Invalid("unpin: \"" + digest + "\" is not a digest");
  GITDISC_ASSIGN_OR_RETURN(FileLock lock,
                           FileLock::Acquire(JoinPath(options_.dir, "locks/cache.lock"), true));
  std::string dir = JoinPath(options_.dir, "pins/" + digest);
  std::string file = JoinPath(dir, EncodePinOwner(owner));
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno("unpin " + file, errno);
  }
  ::rmdir(dir.c_str());  // fails harmlessly while other owners remain
  return Status::Ok();
}

Result<std::map<std::string, std::vector<std::string>>> IsoCache::ListPins() const {
  std::map<std::string, std::vector<std::string>> pins;
  GITDISC_ASSIGN_OR_RETURN(auto digests, ListDir(JoinPath(options_.dir, "pins")));
  for (const std::string& d : digests) {
    if (!IsLowerDigest(d)) continue;
    GITDISC_ASSIGN_OR_RETURN(auto owners, ListDir(JoinPath(options_.dir, "pins/" + d)));
    for (const std::string& o : owners) {
      if (!o.empty() && o[0] != '.') pins[d].push_back(DecodePinOwner(o));
    }
    if (pins.count(d)) std::sort(pins[d].begin(), pins[d].end());
  }
  return pins;
}

Result<uint64_t> IsoCache::TotalBytes() const {
  GITDISC_ASSIGN_OR_RETURN(auto names, ListDir(options_.dir));
  uint64_t total = 0;
  for (const std::string& n : names) {
    if (!IsImageName(n)) continue;
    struct stat st;
    if (::stat(JoinPath(options_.dir, n).c_str(), &st) == 0) total += uint64_t(st.st_size);
  }
  return total;
}

namespace {

struct Image {
  int64_t mtime_ns;
  std::string digest;
  uint64_t bytes;
};

// The complete images in `dir`, least recently used first.
Result<std::vector<Image>> ImagesByAge(const std::string& dir) {
  GITDISC_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  std::vector<Image> images;
  for (const std::string& n : names) {
    if (!IsImageName(n)) continue;
    struct stat st;
    if (::stat(JoinPath(dir, n).c_str(), &st) != 0) continue;
    int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    images.push_back({mtime, n.substr(0, 64), uint64_t(st.st_size)});
  }
  std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
    return std::tie(a.mtime_ns, a.digest) < std::tie(b.mtime_ns, b.digest);
  });
  return images;
}

}  // namespace

Result<std::vector<IsoCache::Entry>> IsoCache::List() const {
  GITDISC_ASSIGN_OR_RETURN(auto images, ImagesByAge(options_.dir));
  GITDISC_ASSIGN_OR_RETURN(auto pins, ListPins());
  std::vector<Entry> out;
  for (const Image& img : images) {
    Entry e{img.digest, img.bytes, img.mtime_ns / 1000000000, {}};
    if (auto it = pins.find(img.digest); it != pins.end()) e.pinned = it->second;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<std::string>> IsoCache::Evict(const std::string& keep) {
  std::vector<std::string> removed;
  if (options_.max_bytes == 0) return removed;
  GITDISC_ASSIGN_OR_RETURN(FileLock lock,
                           FileLock::Acquire(JoinPath(options_.dir, "locks/cache.lock"), true));
  GITDISC_ASSIGN_OR_RETURN(auto pins, ListPins());
  GITDISC_ASSIGN_OR_RETURN(std::vector<Image> images, ImagesByAge(options_.dir));
  uint64_t total = 0;
  for (const Image& img : images) total += img.bytes;
  for (const Image& img : images) {
    if (total <= options_.max_bytes) break;
    if (img.digest == keep || pins.count(img.digest)) continue;
    // Someone is building or ensuring this digest right now: leave it.
    auto busy = FileLock::Acquire(JoinPath(options_.dir, "locks/" + img.digest + ".lock"), false);
    if (!busy.ok()) continue;
    if (::unlink(PathFor(img.digest).c_str()) != 0 && errno != ENOENT) {
      return Status::FromErrno("evict " + PathFor(img.digest), errno);
    }
    total -= img.bytes;
    removed.push_back(img.digest);
    evictions_.fetch_add(1);
  }
  return removed;
}

}  // namespace gitdisc::iso
