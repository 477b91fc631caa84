#include "specs/folder_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/unique_fd.h"
#include "specs/repo_path.h"

namespace gitdisc::specs {
namespace {

// A directory stream; closedir also closes the fd it was opened from.
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

bool Hidden(std::string_view name) { return name == ".git"; }

class FolderTree final : public RepoTree {
 public:
  FolderTree(std::string root, UniqueFd root_fd) : root_(std::move(root)), root_fd_(std::move(root_fd)) {}

  std::string Describe() const override { return "folder " + root_; }
  std::string Revision() const override { return ""; }
  int64_t CommitTime() const override { return 0; }

  Result<Entry> Stat(std::string_view path) const override {
    if (!IsNormalRepoPath(path)) return BadPath(path);
    if (path.empty()) return Entry{"", Type::kDir, 0755, 0};
    GITDISC_ASSIGN_OR_RETURN(UniqueFd parent, OpenDir(RepoPathParent(path)));
    std::string name(
        path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1));
    if (Hidden(name)) return Status::NotFound(Where(path) + ": no such file or folder");
    struct stat st;
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(Where(path), errno);
    }
    std::optional<Entry> e = MakeEntry(std::string(path), st);
    if (!e) return Status::Invalid(Where(path) + ": not a regular file, folder or symlink");
    return *e;
  }

  Result<std::vector<Entry>> List(std::string_view dir, bool recursive) const override {
    if (!IsNormalRepoPath(dir)) return BadPath(dir);
    std::vector<Entry> out;
    // A work list rather than recursion: folder depth is the input's choice.
    std::vector<std::string> todo = {std::string(dir)};
    while (!todo.empty()) {
      std::string next = std::move(todo.back());
      todo.pop_back();
      GITDISC_RETURN_IF_ERROR(ListInto(next, recursive, &out, &todo));
    }
    std::sort(out.begin(), out.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    return out;
  }

  Result<std::string> ReadFile(std::string_view path, uint64_t max_bytes) const override {
    if (!IsNormalRepoPath(path) || path.empty()) return BadPath(path);
    GITDISC_ASSIGN_OR_RETURN(UniqueFd parent, OpenDir(RepoPathParent(path)));
    std::string name = Base(path);
    if (Hidden(name)) return Status::NotFound(Where(path) + ": no such file");
    // O_NONBLOCK so a FIFO planted in the folder cannot hang us; O_NOFOLLOW
    // so a symlink is refused rather than read through.
    UniqueFd fd(::openat(parent.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid()) {
      if (errno == ELOOP) return Status::Invalid(Where(path) + ": is a symlink, not a file");
      return Status::FromErrno(Where(path), errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(Where(path), errno);
    if (!S_ISREG(st.st_mode)) return Status::Invalid(Where(path) + ": not a regular file");
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
      return Status::Invalid(Where(path) + ": " + std::to_string(st.st_size) +
                             " bytes is over the limit of " + std::to_string(max_bytes));
    }
    std::string data;
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(Where(path), errno);
      }
      if (n == 0) break;
      if (data.size() + static_cast<uint64_t>(n) > max_bytes) {  // grew while we read
        return Status::Invalid(Where(path) + ": over the limit of " + std::to_string(max_bytes) +
                               " bytes");
      }
      data.append(buf, static_cast<size_t>(n));
    }
    return data;
  }

  Result<std::string> ReadLink(std::string_view path) const override {
    if (!IsNormalRepoPath(path) || path.empty()) return BadPath(path);
    GITDISC_ASSIGN_OR_RETURN(UniqueFd parent, OpenDir(RepoPathParent(path)));
    std::string name = Base(path);
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(parent.get(), name.c_str(), target.data(), target.size());
    if (n < 0) {
      if (errno == EINVAL) return Status::Invalid(Where(path) + ": not a symlink");
      return Status::FromErrno(Where(path), errno);
    }
    target.resize(static_cast<size_t>(n));
    return target;
  }

 private:
  static Status BadPath(std::string_view path) {
    return Status::Invalid("'" + std::string(path) + "' is not a normalised relative path");
  }
  static std::string Base(std::string_view path) {
    size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
  }
  std::string Where(std::string_view path) const { return root_ + "/" + std::string(path); }

  static std::optional<Entry> MakeEntry(std::string path, const struct stat& st) {
    Entry e;
    e.path = std::move(path);
    if (S_ISREG(st.st_mode)) {
      e.type = Type::kFile;
      e.mode = (st.st_mode & 0111) ? 0755 : 0644;
      e.size = static_cast<uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      e.type = Type::kDir;
      e.mode = 0755;
    } else if (S_ISLNK(st.st_mode)) {
      e.type = Type::kSymlink;
      e.mode = 0777;
      e.size = static_cast<uint64_t>(st.st_size);
    } else {
      return std::nullopt;
    }
    return e;
  }

  // Opens a folder of the tree one component at a time, refusing symlinks.
  Result<UniqueFd> OpenDir(const std::string& dir) const {
    UniqueFd cur(::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cur.valid()) return Status::FromErrno(root_, errno);
    size_t start = 0;
    while (start < dir.size()) {
      size_t slash = dir.find('/', start);
      if (slash == std::string::npos) slash = dir.size();
      std::string part = dir.substr(start, slash - start);
      if (Hidden(part)) return Status::NotFound(Where(dir) + ": no such folder");
      UniqueFd next(::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) {
        if (errno == ELOOP || errno == ENOTDIR) {
          return Status::NotFound(Where(dir.substr(0, slash)) + ": not a folder");
        }
        return Status::FromErrno(Where(dir.substr(0, slash)), errno);
      }
      cur = std::move(next);
      start = slash + 1;
    }
    return cur;
  }

  Status ListInto(const std::string& dir, bool recursive, std::vector<Entry>* out,
                  std::vector<std::string>* todo) const {
    GITDISC_ASSIGN_OR_RETURN(UniqueFd fd, OpenDir(dir));
    DirHandle d(::fdopendir(fd.get()));
    if (!d) return Status::FromErrno(Where(dir), errno);
    int dfd = fd.release();  // owned by d now
    while (true) {
      errno = 0;
      struct dirent* de = ::readdir(d.get());
      if (de == nullptr) {
        if (errno != 0) return Status::FromErrno(Where(dir), errno);
        break;
      }
      std::string name = de->d_name;
      if (name == "." || name == ".." || Hidden(name)) continue;
      struct stat st;
      if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // vanished while we listed
        return Status::FromErrno(Where(JoinRepoPath(dir, name)), errno);
      }
      std::optional<Entry> e = MakeEntry(JoinRepoPath(dir, name), st);
      if (!e) continue;  // sockets, FIFOs, devices: nothing a commit could hold
      if (recursive && e->type == Type::kDir) todo->push_back(e->path);
      out->push_back(std::move(*e));
    }
    return Status::Ok();
  }

  std::string root_;
  UniqueFd root_fd_;
};

}  // namespace

Result<std::unique_ptr<RepoTree>> OpenFolderTree(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOTDIR) return Status::Invalid(path + ": not a folder");
    return Status::FromErrno(path, err);
  }
  std::string root = path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return std::unique_ptr<RepoTree>(std::make_unique<FolderTree>(std::move(root), std::move(fd)));
}

}  // namespace gitdisc::specs
