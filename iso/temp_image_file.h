// TempImageFile: where a bundle ISO is written before it exists (internal to
// iso/). A fresh file ".<name>.tmp-<pid>-<random>" next to the final path, so
// that the rename is atomic; removed on destruction unless CloseAndRename
// succeeded, so a failed build leaves nothing behind.
//
// Not thread-safe: owned by the one WriteBundleIso call that builds the image.
#ifndef GITDISC_ISO_TEMP_IMAGE_FILE_H_
#define GITDISC_ISO_TEMP_IMAGE_FILE_H_

#include <cstddef>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"

namespace gitdisc::iso {

class TempImageFile {
 public:
  // Names the temporary file for `out_path`; Create() makes it.
  explicit TempImageFile(const std::string& out_path);
  ~TempImageFile();
  TempImageFile(const TempImageFile&) = delete;
  TempImageFile& operator=(const TempImageFile&) = delete;

  // Creates the file (0644, read-write, must not exist yet).
  Status Create();
  // Appends all of p[0..n), retrying short writes.
  Status Write(const unsigned char* p, size_t n);
  // fsyncs and closes the file, renames it to `to` and fsyncs its folder.
  Status CloseAndRename(const std::string& to);

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
  bool released_ = false;
};

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_TEMP_IMAGE_FILE_H_
