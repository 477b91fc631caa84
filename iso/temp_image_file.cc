#include "iso/temp_image_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>

#include "base/dir_name.h"
#include "base/file_util.h"
#include "base/write_all.h"

namespace gitdisc::iso {
namespace {

std::string TempName(const std::string& out_path) {
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp-%d-%08x", static_cast<int>(::getpid()), rd());
  std::string dir = DirName(out_path);
  size_t slash = out_path.rfind('/');
  std::string base = slash == std::string::npos ? out_path : out_path.substr(slash + 1);
  return JoinPath(dir, "." + base + suffix);
}

}  // namespace

TempImageFile::TempImageFile(const std::string& out_path) : path_(TempName(out_path)) {}

TempImageFile::~TempImageFile() {
  fd_.Reset();
  if (!released_) ::unlink(path_.c_str());
}

Status TempImageFile::Create() {
  fd_.Reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd_) return Status::FromErrno("create " + path_, errno);
  return Status::Ok();
}

Status TempImageFile::Write(const unsigned char* p, size_t n) {
  return WriteAll(fd_.get(), std::string_view(reinterpret_cast<const char*>(p), n), path_);
}

Status TempImageFile::CloseAndRename(const std::string& to) {
  if (::fsync(fd_.get()) != 0) return Status::FromErrno("fsync " + path_, errno);
  if (fd_.Close() != 0) return Status::FromErrno("close " + path_, errno);
  if (::rename(path_.c_str(), to.c_str()) != 0) {
    return Status::FromErrno("rename " + path_ + " to " + to, errno);
  }
  released_ = true;
  UniqueFd dir(::open(DirName(to).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) ::fsync(dir.get());
  return Status::Ok();
}

}  // namespace gitdisc::iso
