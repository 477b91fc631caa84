#include "specs/artifact_store.h"

#include <fcntl.h>
#include <httplib.h>
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
#include "base/unique_fd.h"
#include "base/sha256.h"

namespace gitdisc::specs {
namespace {

// The URL with any query dropped, for messages (a query may carry a token).
std::string Redact(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

}  // namespace

ArtifactStore::ArtifactStore(std::string state_dir, ArtifactLimits limits)
    : dir_(JoinPath(state_dir, "artifacts")), limits_(limits) {}

std::string ArtifactStore::StoredPath(const std::string& sha256) const {
  return JoinPath(dir_, AsciiLower(sha256));
}

Result<LocalArtifact> ArtifactStore::Get(const PayloadSource& source) {
  if (const auto* f = std::get_if<FileSource>(&source)) return Get(*f);
  if (const auto* u = std::get_if<UrlSource>(&source)) return Get(*u);
  return Status::Invalid("a path: payload has no artifact");
}

Result<LocalArtifact> ArtifactStore::VerifyLocal(const std::string& path, const std::string& sha256,
                                                 const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno(what + ": open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(what + ": stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(what + ": " + path + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limits_.max_bytes) {
    return Status::Invalid(what + ": " + path + " is " + std::to_string(size) +
                           " bytes, over the limit of " + std::to_string(limits_.max_bytes));
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
      return Status::FromErrno(what + ": read " + path, errno);
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > limits_.max_bytes) {
      return Status::Invalid(what + ": " + path + " grew over the limit of " +
                             std::to_string(limits_.max_bytes) + " bytes");
    }
    hasher.Update(buf.data(), static_cast<size_t>(n));
  }
  std::string got = hasher.FinishHex();
  if (got != sha256) {
    return Status::Corrupt(what + ": " + path + " has sha256 " + got + ", the spec pins " + sha256);
  }
  std::lock_guard<std::mutex> l(mu_);
  verified_[key] = sha256;
  return LocalArtifact{path, total, sha256};
}

Result<LocalArtifact> ArtifactStore::Get(const FileSource& source) {
  return VerifyLocal(source.path, AsciiLower(source.sha256), "file: artifact");
}

Result<LocalArtifact> ArtifactStore::Get(const UrlSource& source) {
  const std::string sha = AsciiLower(source.sha256);
  if (!IsSha256Hex(sha)) return Status::Invalid("url: artifact: sha256 is not 64 hex digits");
  const std::string stored = StoredPath(sha);
  if (PathExists(stored)) {
    auto ok = VerifyLocal(stored, sha, "url: artifact " + Redact(source.url));
    if (ok.ok()) return ok;
    // Damaged on disk: drop it and fetch again.
    (void)RemoveAll(stored);
  }
  return Download(source, sha);
}

Result<LocalArtifact> ArtifactStore::Download(const UrlSource& source, const std::string& sha) {
  const std::string what = "url: artifact " + Redact(source.url);
  const std::string& url = source.url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Status::Invalid(what + ": not a URL");
  std::string scheme = AsciiLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") {
    return Status::Invalid(what + ": only http:// and https:// URLs are supported");
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string base = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (size_t hash = path.find('#'); hash != std::string::npos) path.resize(hash);

  GITDISC_RETURN_IF_ERROR(MakeDirs(dir_, 0755));
  std::random_device rd;
  const std::string tmp =
      StoredPath(sha) + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::FromErrno(what + ": create " + tmp, errno);

  Sha256Hasher hasher;
  uint64_t total = 0;
  Status failure;
  int http_status = 0;
  httplib::Client client(base);
  client.set_follow_location(true);
  client.set_connection_timeout(static_cast<time_t>(limits_.connect_timeout.count()), 0);
  client.set_read_timeout(static_cast<time_t>(limits_.read_timeout.count()), 0);
  if (scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (PathExists("/etc/ssl/certs/ca-certificates.crt")) {
      client.set_ca_cert_path("/etc/ssl/certs/ca-certificates.crt");
    }
  }
  auto res = client.Get(
      path, httplib::Headers{},
      [&](const httplib::Response& r) {
        http_status = r.status;
        if (r.status != 200) return false;
        if (r.has_header("Content-Length")) {
          uint64_t len = std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10);
          if (len > limits_.max_bytes) {
            failure = Status::Invalid(what + ": " + std::to_string(len) +
                                      " bytes announced, over the limit of " +
                                      std::to_string(limits_.max_bytes));
            return false;
          }
        }
        return true;
      },
      [&](const char* data, size_t len) {
        total += len;
        if (total > limits_.max_bytes) {
          failure = Status::Invalid(what + ": more than the limit of " +
                                    std::to_string(limits_.max_bytes) + " bytes");
          return false;
        }
        hasher.Update(data, len);
        while (len > 0) {
          ssize_t n = ::write(fd.get(), data, len);
          if (n < 0) {
            if (errno == EINTR) continue;
            failure = Status::FromErrno(what + ": write " + tmp, errno);
            return false;
          }
          data += n;
          len -= static_cast<size_t>(n);
        }
        return true;
      });

  auto discard = [&](Status s) {
    fd.Close();
    ::unlink(tmp.c_str());
    return s;
  };
  if (!failure.ok()) return discard(failure);
  if (http_status != 0 && http_status != 200) {
    Status s = http_status == 404 ? Status::NotFound(what + ": HTTP 404")
               : http_status >= 500
                   ? Status::Unavailable(what + ": HTTP " + std::to_string(http_status))
                   : Status::Invalid(what + ": HTTP " + std::to_string(http_status));
    return discard(s);
  }
  if (!res) {
    return discard(
        Status::Unavailable(what + ": download failed: " + httplib::to_string(res.error())));
  }
  std::string got = hasher.FinishHex();
  if (got != sha) {
    return discard(Status::Corrupt(what + ": downloaded bytes have sha256 " + got +
                                   ", the spec pins " + sha + " (discarded)"));
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
