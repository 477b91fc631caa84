#include "specs/git_tree.h"

#include <algorithm>
#include <utility>

#include "specs/git_internal.h"
#include "specs/git_tree_impl.h"

namespace gitdisc::specs {

using git_internal::GitError;
using git_internal::GitTreeEntryPtr;
using git_internal::GitTreePtr;
using git_internal::OidHex;

namespace {

// Relative, '/'-separated, no empty / "." / ".." components; "" is the root.
Status CheckPath(std::string_view path) {
  if (path.empty()) return Status::Ok();
  if (path.front() == '/' || path.back() == '/') {
    return Status::Invalid("path '" + std::string(path) +
                           "' must be relative, without a trailing '/'");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::Invalid("path '" + std::string(path) + "' is not normalised");
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  out += '/';
  out += name;
  return out;
}

}  // namespace

Result<RepoTree::Entry> GitTree::Impl::EntryFor(std::string path, const git_tree_entry* e,
                                                bool with_size) const {
  Entry out;
  out.path = std::move(path);
  switch (git_tree_entry_filemode(e)) {
    case GIT_FILEMODE_TREE:
      out.type = Type::kDir;
      out.mode = 0755;
      return out;
    case GIT_FILEMODE_COMMIT:
      out.type = Type::kSubmodule;
      out.mode = 0;
      return out;
    case GIT_FILEMODE_LINK:
      out.type = Type::kSymlink;
      out.mode = 0777;
      break;
    case GIT_FILEMODE_BLOB_EXECUTABLE:
      out.type = Type::kFile;
      out.mode = 0755;
      break;
    default:
      out.type = Type::kFile;
      out.mode = 0644;
      break;
  }
  if (!with_size) return out;
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  int rc = git_odb_read_header(&size, &type, odb.get(), git_tree_entry_id(e));
  if (rc != 0) return GitError("read object header of '" + out.path + "' in " + Describe(), rc);
  out.size = size;
  return out;
}

std::string GitTree::Impl::Describe() const { return "commit " + commit.substr(0, 7); }

Result<std::pair<GitTreeEntryPtr, bool>> GitTree::Impl::Lookup(std::string_view path) const {
  GITDISC_RETURN_IF_ERROR(CheckPath(path));
  if (path.empty()) return std::make_pair(GitTreeEntryPtr(), true);  // the root
  git_tree_entry* e = nullptr;
  int rc = git_tree_entry_bypath(&e, root.get(), std::string(path).c_str());
  if (rc == GIT_ENOTFOUND) {
    return Status::NotFound(std::string(path) + ": no such file or folder in " + Describe());
  }
  if (rc != 0) return GitError("look up '" + std::string(path) + "' in " + Describe(), rc);
  return std::make_pair(GitTreeEntryPtr(e), false);
}

GitTree::GitTree(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GitTree::~GitTree() {
  if (!impl_) return;
  // Keep the handle alive past the lock: this may be its last owner.
  std::shared_ptr<git_internal::GitRepoHandle> handle = impl_->handle;
  std::lock_guard<std::mutex> l(handle->mu);
  impl_.reset();  // frees libgit2 objects under the repository's lock
}

std::string GitTree::Describe() const { return impl_->Describe(); }
std::string GitTree::Revision() const { return impl_->commit; }
int64_t GitTree::CommitTime() const { return impl_->commit_time; }

Result<RepoTree::Entry> GitTree::Stat(std::string_view path) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(path));
  if (found.second) return Entry{"", Type::kDir, 0755, 0};
  return impl_->EntryFor(std::string(path), found.first.get());
}

Result<std::vector<RepoTree::Entry>> GitTree::List(std::string_view dir, bool recursive) const {
  return ListEntries(dir, recursive, /*with_sizes=*/true);
}

Result<std::vector<RepoTree::Entry>> GitTree::ListWithoutSizes(std::string_view dir,
                                                               bool recursive) const {
  return ListEntries(dir, recursive, /*with_sizes=*/false);
}

Result<std::vector<RepoTree::Entry>> GitTree::ListEntries(std::string_view dir, bool recursive,
                                                          bool with_sizes) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(dir));
  GitTreePtr owned;
  const git_tree* tree = impl_->root.get();
  if (!found.second) {
    if (git_tree_entry_type(found.first.get()) != GIT_OBJECT_TREE) {
      return Status::Invalid(std::string(dir) + ": not a folder in " + impl_->Describe());
    }
    git_tree* t = nullptr;
    int rc = git_tree_lookup(&t, impl_->handle->repo.get(), git_tree_entry_id(found.first.get()));
    if (rc != 0)
      return GitError("read folder '" + std::string(dir) + "' in " + impl_->Describe(), rc);
    owned.reset(t);
    tree = t;
  }

  std::vector<Entry> out;
  Status failure;
  if (!recursive) {
    size_t n = git_tree_entrycount(tree);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree, i);
      auto entry = impl_->EntryFor(Join(dir, git_tree_entry_name(e)), e, with_sizes);
      if (!entry.ok()) return entry.status();
      out.push_back(std::move(entry).value());
    }
  } else {
    struct Walk {
      const Impl* impl;
      std::string_view dir;
      std::vector<Entry>* out;
      Status* failure;
      bool with_sizes;
    } walk{impl_.get(), dir, &out, &failure, with_sizes};
    int rc = git_tree_walk(
        tree, GIT_TREEWALK_PRE,
        [](const char* root, const git_tree_entry* e, void* payload) -> int {
          auto* w = static_cast<Walk*>(payload);
          std::string rel = std::string(root) + git_tree_entry_name(e);
          auto entry = w->impl->EntryFor(Join(w->dir, rel), e, w->with_sizes);
          if (!entry.ok()) {
            *w->failure = entry.status();
            return -1;
          }
          w->out->push_back(std::move(entry).value());
          return 0;
        },
        &walk);
    if (!failure.ok()) return failure;
    if (rc != 0)
      return GitError("walk folder '" + std::string(dir) + "' in " + impl_->Describe(), rc);
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return out;
}

Result<std::string> GitTree::ReadFile(std::string_view path, uint64_t max_bytes) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(path));
  if (found.second) return Status::Invalid("'' is the root folder, not a file");
  git_filemode_t mode = git_tree_entry_filemode(found.first.get());
  if (mode == GIT_FILEMODE_TREE) {
    return Status::Invalid(std::string(path) + ": is a folder, not a file, in " +
                           impl_->Describe());
  }
  if (mode == GIT_FILEMODE_COMMIT) {
    return Status::Invalid(std::string(path) + ": is a submodule, not a file, in " +
                           impl_->Describe());
  }
  if (mode == GIT_FILEMODE_LINK) {
    return Status::Invalid(std::string(path) + ": is a symbolic link, not a file, in " +
                           impl_->Describe());
  }
  return impl_->ReadBlob(std::string(path), git_tree_entry_id(found.first.get()), max_bytes);
}

Result<std::string> GitTree::Impl::ReadBlob(const std::string& path, const git_oid* oid,
                                            uint64_t max_bytes) const {
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  int rc = git_odb_read_header(&size, &type, odb.get(), oid);
  if (rc != 0) return GitError("read object header of '" + path + "' in " + Describe(), rc);
  if (size > max_bytes) {
    return Status::Invalid(path + ": " + std::to_string(size) + " bytes in " + Describe() +
                           ", larger than the limit of " + std::to_string(max_bytes) + " bytes");
  }
  git_blob* blob = nullptr;
  rc = git_blob_lookup(&blob, handle->repo.get(), oid);
  if (rc != 0) return GitError("read '" + path + "' in " + Describe(), rc);
  git_internal::GitBlobPtr owned(blob);
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob));
  return std::string(data, static_cast<size_t>(git_blob_rawsize(blob)));
}

Result<std::string> GitTree::ReadLink(std::string_view path) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(path));
  if (found.second || git_tree_entry_filemode(found.first.get()) != GIT_FILEMODE_LINK) {
    return Status::Invalid(std::string(path) + ": not a symbolic link in " + impl_->Describe());
  }
  return impl_->ReadBlob(std::string(path), git_tree_entry_id(found.first.get()), 4096);
}

Result<std::string> GitTree::FolderId(std::string_view dir) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(dir));
  if (found.second) return OidHex(git_tree_id(impl_->root.get()));
  if (git_tree_entry_type(found.first.get()) != GIT_OBJECT_TREE) {
    return Status::Invalid(std::string(dir) + ": not a folder in " + impl_->Describe());
  }
  return OidHex(git_tree_entry_id(found.first.get()));
}

Result<std::string> GitTree::BlobId(std::string_view path) const {
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(auto found, impl_->Lookup(path));
  if (found.second || git_tree_entry_type(found.first.get()) != GIT_OBJECT_BLOB) {
    return Status::Invalid(std::string(path) + ": not a file in " + impl_->Describe());
  }
  return OidHex(git_tree_entry_id(found.first.get()));
}

}  // namespace gitdisc::specs
