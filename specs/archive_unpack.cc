#include "specs/archive_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>
#include <vector>

#include "base/c_handle.h"
#include "base/file_util.h"
#include "base/symlink_path.h"
#include "base/unique_fd.h"
#include "specs/repo_path.h"

namespace gitdisc::specs {
namespace {

using ArchivePtr = CHandle<archive, archive_read_free>;

// The entry's path as a normal repo path: "./a/b/" → "a/b"; nullopt when it
// is absolute or has a ".." (or is the root itself: "" is returned).
std::optional<std::string> EntryPath(std::string_view raw) {
  while (raw.substr(0, 2) == "./") raw.remove_prefix(2);
  while (!raw.empty() && raw.back() == '/') raw.remove_suffix(1);
  if (raw == ".") return std::string();
  if (!IsNormalRepoPath(raw)) return std::nullopt;
  return std::string(raw);
}

class Unpacker {
 public:
  Unpacker(std::string archive_path, std::string root, const UnpackLimits& limits)
      : archive_path_(std::move(archive_path)), root_(std::move(root)), limits_(limits) {}

  Status Run() {
    ArchivePtr a(archive_read_new());
    if (!a) return Status::Io("libarchive: out of memory");
    archive_read_support_format_tar(a.get());
    archive_read_support_format_zip(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_bzip2(a.get());
    if (archive_read_open_filename(a.get(), archive_path_.c_str(), 64 * 1024) != ARCHIVE_OK) {
      return Invalid("", ArchiveError(a.get()));
    }
    root_fd_.Reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!root_fd_) return Status::FromErrno("open " + root_, errno);
    for (;;) {
      archive_entry* entry = nullptr;
      int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Invalid("", ArchiveError(a.get()));
      if (++entries_ > limits_.max_entries) {
        return Invalid("", "more than " + std::to_string(limits_.max_entries) + " entries");
      }
      GITDISC_RETURN_IF_ERROR(Entry(a.get(), entry));
    }
    // Links last, so that no file was written through one, and each is
    // checked against all the others.
    for (const auto& [path, target] : links_) {
      GITDISC_RETURN_IF_ERROR(ResolveSymlinkInFolder(path, target, links_).status());
    }
    for (const auto& [path, target] : links_) {
      GITDISC_ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(path, /*create=*/true));
      std::string name = path.substr(path.rfind('/') + 1);
      if (::symlinkat(target.c_str(), parent.get(), name.c_str()) != 0) {
        return errno == EEXIST ? Invalid(path, "appears twice in the archive")
                               : Status::FromErrno("symlink " + path, errno);
      }
    }
    return Status::Ok();
  }

 private:
  Status Invalid(const std::string& entry, const std::string& why) const {
    return Status::Invalid("archive " + archive_path_ +
                           (entry.empty() ? "" : ": entry '" + entry.substr(0, 200) + "'") +
                           ": " + why);
  }
  static std::string ArchiveError(archive* a) {
    const char* e = archive_error_string(a);
    return e ? e : "cannot be read";
  }

  Status Entry(archive* a, archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    const std::string raw = raw_name ? raw_name : "";
    auto path = EntryPath(raw);
    if (!path) return Invalid(raw, "absolute or with '..': it would leave the payload folder");
    if (archive_entry_hardlink(entry) != nullptr) return Invalid(raw, "hard links are not allowed");
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR:
        if (path->empty()) return Status::Ok();
        return OpenDirs(*path, /*create=*/true).status();
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        if (path->empty() || !target) return Invalid(raw, "a symbolic link without a name");
        if (!seen_.insert(*path).second) return Invalid(raw, "appears twice in the archive");
        links_.emplace_back(*path, target);
        return Status::Ok();
      }
      case AE_IFREG:
        if (path->empty()) return Invalid(raw, "a file without a name");
        return File(a, entry, *path);
      default:
        return Invalid(raw, "not a file, folder or symbolic link");
    }
  }

  Status File(archive* a, archive_entry* entry, const std::string& path) {
    if (!seen_.insert(path).second) return Invalid(path, "appears twice in the archive");
    const mode_t mode = (archive_entry_perm(entry) & 0111) ? 0755 : 0644;
    GITDISC_ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(path, /*create=*/true));
    const std::string name = path.substr(path.rfind('/') + 1);
    UniqueFd fd(::openat(parent.get(), name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) {
      return errno == EEXIST ? Invalid(path, "appears twice in the archive")
                             : Status::FromErrno("create " + path, errno);
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      int rc = archive_read_data_block(a, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Invalid(path, ArchiveError(a));
      bytes_ += size;
      if (bytes_ > limits_.max_bytes) {
        return Invalid(path, "the files add up to more than " +
                                 std::to_string(limits_.max_bytes) + " bytes");
      }
      // Sparse entries come with offsets: write where the block belongs.
      if (::lseek(fd.get(), offset, SEEK_SET) < 0) return Status::FromErrno("seek " + path, errno);
      const char* p = static_cast<const char*>(block);
      while (size > 0) {
        ssize_t n = ::write(fd.get(), p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Status::FromErrno("write " + path, errno);
        p += n;
        size -= static_cast<size_t>(n);
      }
    }
    const la_int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
    if (declared >= 0 && ::ftruncate(fd.get(), declared) != 0) {
      return Status::FromErrno("truncate " + path, errno);
    }
    if (::fchmod(fd.get(), mode) != 0) return Status::FromErrno("chmod " + path, errno);
    if (fd.Close() != 0) return Status::FromErrno("close " + path, errno);
    return Status::Ok();
  }

  // The folder `dir` (a normal path, "" = the root), each component opened
  // with O_NOFOLLOW, so a path through a symlink is refused.
  Result<UniqueFd> OpenDirs(const std::string& dir, bool create) {
    UniqueFd cur(::dup(root_fd_.get()));
    if (!cur) return Status::FromErrno("dup", errno);
    size_t start = 0;
    while (start < dir.size()) {
      size_t end = dir.find('/', start);
      if (end == std::string::npos) end = dir.size();
      const std::string part = dir.substr(start, end - start);
      if (create && ::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno("mkdir " + dir.substr(0, end), errno);
      }
      UniqueFd next(::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) {
        if (errno == ELOOP || errno == ENOTDIR) {
          return Invalid(dir, "runs through something that is not a folder");
        }
        return Status::FromErrno("open " + dir.substr(0, end), errno);
      }
      cur = std::move(next);
      start = end + 1;
    }
    return cur;
  }
  Result<UniqueFd> OpenParent(const std::string& path, bool create) {
    return OpenDirs(RepoPathParent(path), create);
  }

  const std::string archive_path_;
  const std::string root_;
  const UnpackLimits limits_;
  UniqueFd root_fd_;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
  std::set<std::string> seen_;
  std::vector<std::pair<std::string, std::string>> links_;
};

}  // namespace

Status UnpackArchive(const std::string& archive_path, const std::string& dest,
                     const UnpackLimits& limits) {
  std::string tmpl = dest + ".unpack-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno("mkdtemp " + tmpl, errno);
  if (::chmod(tmpl.c_str(), 0755) != 0) {
    Status st = Status::FromErrno("chmod " + tmpl, errno);
    (void)RemoveAll(tmpl);
    return st;
  }
  Status st = Unpacker(archive_path, tmpl, limits).Run();
  if (st.ok() && ::rename(tmpl.c_str(), dest.c_str()) != 0) {
    st = Status::FromErrno("rename " + tmpl + " to " + dest, errno);
  }
  if (!st.ok()) (void)RemoveAll(tmpl);
  return st;
}

}  // namespace gitdisc::specs
