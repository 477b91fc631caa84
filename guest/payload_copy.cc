#include "guest/payload_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "base/file_util.h"
#include "base/sha256.h"
#include "base/symlink_path.h"
#include "base/unique_fd.h"

namespace gitdisc::guest {
namespace {

constexpr int kMaxDepth = 256;
constexpr size_t kMaxEntries = 2'000'000;
constexpr size_t kMaxReportBytes = 1000;

// What the walk found: relative path → lstat result.
using Found = std::map<std::string, struct stat>;

Status Walk(const std::string& root, const std::string& rel, int depth, Found* found) {
  if (depth > kMaxDepth) return Status::Corrupt(root + ": folders nested too deeply");
  std::string dir = rel.empty() ? root : JoinPath(root, rel);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Status::FromErrno("open " + dir, errno);
  DIR* d = ::fdopendir(fd.get());
  if (!d) return Status::FromErrno("opendir " + dir, errno);
  (void)fd.release();  // closedir closes it
  std::vector<std::string> subdirs;
  Status result = Status::Ok();
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      result = Status::FromErrno("stat " + JoinPath(dir, name), errno);
      break;
    }
    std::string path = rel.empty() ? name : rel + "/" + name;
    (*found)[path] = st;
    if (found->size() > kMaxEntries) {
      result = Status::Corrupt(root + ": too many entries");
      break;
    }
    if (S_ISDIR(st.st_mode)) subdirs.push_back(path);
  }
  ::closedir(d);
  GITDISC_RETURN_IF_ERROR(result);
  for (const auto& sub : subdirs) GITDISC_RETURN_IF_ERROR(Walk(root, sub, depth + 1, found));
  return Status::Ok();
}

std::string Octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%o", mode);
  return buf;
}

// Owner and write bits of a file or folder the agent will exec from.
std::string OwnershipProblem(const struct stat& st) {
  if (st.st_uid != ::geteuid()) return "owned by uid " + std::to_string(st.st_uid);
  if (st.st_mode & 022)
    return "writable by group or others (mode " + Octal(st.st_mode & 07777) + ")";
  return "";
}

std::string HashRegular(const std::string& path, const struct stat& want, std::string* problem) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    *problem = "cannot be read";
    return "";
  }
  if (!S_ISREG(st.st_mode) || st.st_ino != want.st_ino || st.st_dev != want.st_dev) {
    *problem = "changed while being checked";
    return "";
  }
  auto digest = Sha256Fd(fd.get(), path);
  if (!digest.ok()) {
    *problem = "cannot be read: " + digest.status().message();
    return "";
  }
  return *digest;
}

}  // namespace

Status VerifyPayloadCopy(const std::string& dir, const iso::ManifestPayload& payload) {
  std::vector<std::string> problems;
  auto problem = [&](const std::string& path, const std::string& why) {
    problems.push_back(path + " (" + why + ")");
  };

  struct stat root;
  if (::lstat(dir.c_str(), &root) != 0) return Status::FromErrno("stat " + dir, errno);
  if (!S_ISDIR(root.st_mode)) return Status::Corrupt(dir + " is not a folder");
  if (std::string why = OwnershipProblem(root); !why.empty()) problem(".", why);

  Found found;
  GITDISC_RETURN_IF_ERROR(Walk(dir, "", 0, &found));

  std::map<std::string, const iso::ManifestFile*> files;
  std::set<std::string> folders;
  for (const iso::ManifestFile& f : payload.files) {
    files[f.path] = &f;
    for (size_t s = f.path.find('/'); s != std::string::npos; s = f.path.find('/', s + 1)) {
      folders.insert(f.path.substr(0, s));
    }
  }

  std::vector<std::pair<std::string, std::string>> links;  // path → target
  for (const auto& [path, st] : found) {
    std::string full = JoinPath(dir, path);
    auto listed = files.find(path);
    if (S_ISDIR(st.st_mode)) {
      if (!folders.count(path)) {
        problem(path, "folder not in the manifest");
      } else if (std::string why = OwnershipProblem(st); !why.empty()) {
        problem(path, why);
      }
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      problem(path, "not a file, folder or symlink");
      continue;
    }
    if (listed == files.end()) {
      problem(path, std::string(S_ISLNK(st.st_mode) ? "symlink" : "file") + " not in the manifest");
      continue;
    }
    const iso::ManifestFile& f = *listed->second;
    if (f.is_symlink() != S_ISLNK(st.st_mode)) {
      problem(path, f.is_symlink() ? "a file, expected a symlink" : "a symlink, expected a file");
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<size_t>(n) != static_cast<size_t>(st.st_size)) {
        problem(path, "cannot read the symlink");
        continue;
      }
      target.resize(static_cast<size_t>(n));
      if (Sha256Hex(target) != f.sha256) {
        problem(path, "symlink target differs from the manifest");
        continue;
      }
      links.emplace_back(path, target);
      continue;
    }
    if ((st.st_mode & 07777) != (f.mode & 07777)) {
      problem(path, "mode " + Octal(st.st_mode & 07777) + ", expected " + Octal(f.mode & 07777));
      continue;
    }
    if (std::string why = OwnershipProblem(st); !why.empty()) {
      problem(path, why);
      continue;
    }
    if (static_cast<uint64_t>(st.st_size) != f.size) {
      problem(path, "size " + std::to_string(st.st_size) + ", expected " + std::to_string(f.size));
      continue;
    }
    std::string why;
    std::string digest = HashRegular(full, st, &why);
    if (!why.empty()) {
      problem(path, why);
    } else if (digest != f.sha256) {
      problem(path, "sha256 differs from the manifest");
    }
  }
  for (const auto& [path, f] : files) {
    if (!found.count(path)) problem(path, "missing");
  }
  for (const auto& [link, target] : links) {
    auto inside = ResolveSymlinkInFolder(link, target, links);
    if (!inside.ok()) problem(link, inside.status().message());
  }
  if (problems.empty()) return Status::Ok();
  std::string text = "the copy of payload " + payload.name + " does not match its manifest:";
  size_t shown = 0;
  for (const auto& p : problems) {
    if (text.size() + p.size() > kMaxReportBytes) break;
    text += " " + p;
    ++shown;
  }
  if (shown < problems.size())
    text += " (and " + std::to_string(problems.size() - shown) + " more)";
  return Status::Corrupt(text);
}

}  // namespace gitdisc::guest
