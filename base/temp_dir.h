// TempDir: a private folder (mode 0700, made by mkdtemp under $TMPDIR or
// /tmp) removed with everything in it when the object goes. For helpers that
// need files on disk for a moment (a signature for ssh-keygen, an isolated
// GnuPG home). Not thread-safe; movable.
#ifndef GITDISC_BASE_TEMP_DIR_H_
#define GITDISC_BASE_TEMP_DIR_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

class TempDir {
 public:
  // `prefix` names the folder: <tmp>/<prefix>XXXXXX.
  static Result<TempDir> Make(std::string_view prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace gitdisc

#endif  // GITDISC_BASE_TEMP_DIR_H_
