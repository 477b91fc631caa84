#include "base/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <utility>

#include "base/file_util.h"

namespace gitdisc {

Result<TempDir> TempDir::Make(std::string_view prefix) {
  const char* env = ::getenv("TMPDIR");
  std::string base = env != nullptr && *env != '\0' ? env : "/tmp";
  std::string tmpl = JoinPath(base, std::string(prefix) + "XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::FromErrno("mkdtemp " + tmpl, errno);
  return TempDir(std::move(tmpl));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, "")) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)RemoveAll(path_);
    path_ = std::exchange(other.path_, "");
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)RemoveAll(path_);
}

}  // namespace gitdisc
