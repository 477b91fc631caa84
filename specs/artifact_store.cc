#include "specs/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <random>
#include <utility>
#include <variant>

#include "base/ascii.h"
#include "base/file_util.h"
#include "base/url_text.h"
#include "base/unique_fd.h"
#include "base/sha256.h"
#include "specs/url_fetch.h"

namespace gitdisc::specs {

ArtifactStore::ArtifactStore(std::string state_dir, ArtifactLimits limits, ArtifactPolicy policy)
    : dir_(JoinPath(state_dir, "artifacts")),
      limits_(limits),
      policy_(std::move(policy)),
      roots_(policy_.file_roots) {}

std::string ArtifactStore::StoredPath(const std::string& sha256) const {
  return JoinPath(dir_, AsciiLower(sha256));
}

Result<LocalArtifact> ArtifactStore::Get(const PayloadSource& source) {
  if (const auto* f = std::get_if<FileSource>(&source)) return Get(*f);
  if (const auto* u = std::get_if<UrlSource>(&source)) return Get(*u);
  return Status::Invalid("a path: payload has no artifact");
}

Result<LocalArtifact> ArtifactStore::VerifyLocal(UniqueFd fd, const std::string& path,
                                                 const std::string& sha256,
                                                 const std::string& what) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(what + ": stat", errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(what + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limits_.max_bytes) {
    return Status::Invalid(what + " is over the limit of " + std::to_string(limits_.max_bytes) +
                           " bytes");
  }
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto key = std::make_tuple(path, static_cast<uint64_t>(st.st_dev),
                             static_cast<uint64_t>(st.st_ino), size, mtime);
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = verified_.find(key);
    if (it != verified_.end() && it->second == sha256) return LocalArtifact{path, size, sha256};
  }
  Sha256Hasher hasher;
  std::string buf(1 << 16, '\0');
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(what + ": read", errno);
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > limits_.max_bytes) {
      return Status::Invalid(what + " grew over the limit of " +
                             std::to_string(limits_.max_bytes) + " bytes");
    }
    hasher.Update(buf.data(), static_cast<size_t>(n));
  }
  // No digest in the message: errors reach the status API, and the digest
  // of a file the author could point at is an oracle for its content.
  if (hasher.FinishHex() != sha256) {
    return Status::Corrupt(what + " does not match the sha256 pinned in the spec");
  }
  std::lock_guard<std::mutex> l(mu_);
  verified_[key] = sha256;
  return LocalArtifact{path, total, sha256};
}

Result<LocalArtifact> ArtifactStore::Get(const FileSource& source) {
  const std::string sha = AsciiLower(source.sha256);
  if (!IsSha256Hex(sha)) return Status::Invalid("file: artifact: sha256 is not 64 hex digits");
  GITDISC_ASSIGN_OR_RETURN(UniqueFd fd, roots_.Open(source.path));
  return VerifyLocal(std::move(fd), source.path, sha, "file: artifact " + source.path);
}

Result<LocalArtifact> ArtifactStore::Get(const UrlSource& source) {
  const std::string sha = AsciiLower(source.sha256);
  if (!IsSha256Hex(sha)) return Status::Invalid("url: artifact: sha256 is not 64 hex digits");
  const std::string stored = StoredPath(sha);
  if (PathExists(stored)) {
    UniqueFd fd(::open(stored.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd) {
      auto ok = VerifyLocal(std::move(fd), stored, sha, "url: artifact " + RedactUrl(source.url));
      if (ok.ok()) return ok;
    }
    // Damaged on disk: drop it and fetch again.
    (void)RemoveAll(stored);
  }
  return Download(source, sha);
}

Result<LocalArtifact> ArtifactStore::Download(const UrlSource& source, const std::string& sha) {
  const std::string what = "url: artifact " + RedactUrl(source.url);
  // Private: what the fleet installs is nobody else's business on this host.
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  std::random_device rd;
  const std::string tmp =
      StoredPath(sha) + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Status::FromErrno(what + ": create " + tmp, errno);

  Sha256Hasher hasher;
  uint64_t total = 0;
  UrlFetchOptions fo;
  fo.max_bytes = limits_.max_bytes;
  fo.connect_timeout = limits_.connect_timeout;
  fo.read_timeout = limits_.read_timeout;
  fo.total_timeout = limits_.total_timeout;
  fo.allow_http = policy_.allow_http;
  Status fetched = FetchUrl(source.url, fo, [&](const char* data, size_t len) {
    hasher.Update(data, len);
    total += len;
    while (len > 0) {
      ssize_t n = ::write(fd.get(), data, len);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(what + ": write " + tmp, errno);
      }
      data += n;
      len -= static_cast<size_t>(n);
    }
    return Status::Ok();
  });

  auto discard = [&](Status s) {
    fd.Close();
    ::unlink(tmp.c_str());
    return s;
  };
  if (!fetched.ok()) return discard(fetched);
  if (hasher.FinishHex() != sha) {
    return discard(Status::Corrupt(what + ": the downloaded bytes do not match the sha256 "
                                          "pinned in the spec (discarded)"));
  }
  if (::fsync(fd.get()) != 0) return discard(Status::FromErrno(what + ": fsync " + tmp, errno));
  if (fd.Close() != 0) {
    ::unlink(tmp.c_str());
    return Status::FromErrno(what + ": close " + tmp, errno);
  }
  const std::string stored = StoredPath(sha);
  if (::rename(tmp.c_str(), stored.c_str()) != 0) {
    Status s = Status::FromErrno(what + ": rename " + tmp, errno);
    ::unlink(tmp.c_str());
    return s;
  }
  return LocalArtifact{stored, total, sha};
}

}  // namespace gitdisc::specs
