// The images in a folder, as the benchmarks count them: files named *.iso
// directly inside it, their apparent size and the disk space they take.
#ifndef GITDISC_BENCH_SUPPORT_IMAGE_DIR_H_
#define GITDISC_BENCH_SUPPORT_IMAGE_DIR_H_

#include <cstdint>
#include <string>

namespace gitdisc::bench {

struct ImageDir {
  int images = 0;
  uint64_t bytes = 0;  // sum of st_size
  uint64_t disk = 0;   // sum of st_blocks × 512
};

// A missing folder counts as empty.
ImageDir CountImages(const std::string& dir);

}  // namespace gitdisc::bench

#endif  // GITDISC_BENCH_SUPPORT_IMAGE_DIR_H_
