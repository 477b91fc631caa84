#include "bench/support/image_dir.h"

#include <dirent.h>
#include <sys/stat.h>

namespace gitdisc::bench {

ImageDir CountImages(const std::string& dir) {
  ImageDir out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".iso") != 0) continue;
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    ++out.images;
    out.bytes += static_cast<uint64_t>(st.st_size);
    out.disk += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  ::closedir(d);
  return out;
}

}  // namespace gitdisc::bench
