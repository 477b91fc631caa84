#include "iso/folder_bundle.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/file_util.h"

namespace gitdisc::iso {
namespace {

constexpr int kMaxDepth = 128;

Status Walk(const std::string& root, const std::string& rel, int depth,
            std::vector<BundleFile>* out) {
  if (depth > kMaxDepth) return Status::Invalid(root + "/" + rel + ": folders nested too deeply");
  std::string dir = rel.empty() ? root : JoinPath(root, rel);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return Status::FromErrno("open folder " + dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  int err = errno;
  ::closedir(d);
  if (err) return Status::FromErrno("read folder " + dir, err);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string full = JoinPath(root, r);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) return Status::FromErrno("stat " + full, errno);
    if (S_ISDIR(st.st_mode)) {
      GITDISC_RETURN_IF_ERROR(Walk(root, r, depth + 1, out));
    } else if (S_ISREG(st.st_mode)) {
      BundleFile f;
      f.path = r;
      f.mode = st.st_mode & 0777;
      f.size = static_cast<uint64_t>(st.st_size);
      f.open = [full]() { return OpenDiskFile(full); };
      out->push_back(std::move(f));
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n2 = ::readlink(full.c_str(), target.data(), target.size());
      if (n2 < 0) return Status::FromErrno("readlink " + full, errno);
      if (static_cast<size_t>(n2) >= target.size()) {
        return Status::Io("readlink " + full + ": target changed while reading");
      }
      target.resize(static_cast<size_t>(n2));
      BundleFile f;
      f.path = r;
      f.mode = 0777;
      f.size = target.size();
      f.symlink_target = std::move(target);
      out->push_back(std::move(f));
    } else {
      return Status::Invalid(full + ": not a regular file, folder or symlink");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<BundlePayload> PayloadFromFolder(const std::string& dir,
                                        const FolderPayloadOptions& options) {
  std::string clean = dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  struct stat st;
  if (::stat(clean.c_str(), &st) != 0) return Status::FromErrno("payload folder " + clean, errno);
  if (!S_ISDIR(st.st_mode)) return Status::Invalid(clean + ": not a folder");
  BundlePayload p;
  if (!options.name.empty()) {
    p.name = options.name;
  } else {
    size_t slash = clean.rfind('/');
    p.name = slash == std::string::npos ? clean : clean.substr(slash + 1);
    if (p.name == "." || p.name == "..") {
      char buf[4096];
      std::string abs = ::realpath(clean.c_str(), buf) ? buf : clean;
      size_t s2 = abs.rfind('/');
      p.name = s2 == std::string::npos ? abs : abs.substr(s2 + 1);
    }
  }
  if (!IsValidPayloadName(p.name)) {
    return Status::Invalid(clean + ": \"" + p.name +
                           "\" is not a valid payload name (1-63 of [A-Za-z0-9._-], starting "
                           "alphanumeric); rename the folder");
  }
  p.version = options.version;
  GITDISC_RETURN_IF_ERROR(Walk(clean, "", 0, &p.files));
  bool run_is_default = options.run == std::vector<std::string>{"./install.sh"};
  if (!run_is_default) {
    p.run = options.run;
  } else if (PathExists(JoinPath(clean, "install.sh"))) {
    p.run = options.run;
  }
  return p;
}

}  // namespace gitdisc::iso
