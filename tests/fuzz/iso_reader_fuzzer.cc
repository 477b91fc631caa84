// libFuzzer target: the ISO reader (iso/iso_reader.h) on an arbitrary image,
// the way the agent meets a disc it does not trust yet. The input is written
// to a memfd and opened through /proc/self/fd; the target lists the tree,
// reads every file (bounded), reads the manifest, verifies, and extracts
// every payload the manifest names into a fresh temporary folder, which it
// removes afterwards. Besides sanitizer reports it checks that extraction
// never creates anything outside its destination folder, whatever the disc
// says, and that a failed extraction leaves nothing behind.
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "iso/iso_reader.h"

namespace {

// Entries in a folder, without "." and "..".
int CountEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gitdisc::iso;
  int fd = ::memfd_create("gitdisc-iso-fuzz", MFD_CLOEXEC);
  if (fd < 0 || !WriteAll(fd, data, size)) std::abort();
  std::string path = "/proc/self/fd/" + std::to_string(fd);

  auto reader = IsoReader::Open(path);
  if (reader.ok()) {
    const IsoReader& r = **reader;
    for (const IsoEntry& e : r.entries()) {
      if (e.path.empty() || e.path.front() == '/') __builtin_trap();
      if (r.Find(e.path) == nullptr) __builtin_trap();
      if (e.type == IsoEntry::Type::kFile) (void)r.ReadFileToString(e.path, 1 << 20);
    }
    auto manifest = r.ReadManifest();
    (void)r.Verify();
    if (manifest.ok()) {
      char tmpl[] = "/tmp/gitdisc-iso-fuzz-XXXXXX";
      if (!::mkdtemp(tmpl)) std::abort();
      std::string parent = tmpl;
      std::string dest = parent + "/out";
      for (const ManifestPayload& p : manifest->payloads) {
        gitdisc::Status s = r.ExtractPayload(*manifest, p.name, dest);
        // Only the destination may appear next to it; a failed extraction
        // removes what it made, including the destination itself.
        int n = CountEntries(parent);
        if (n > 1 || (!s.ok() && n != 0)) __builtin_trap();
        std::error_code ec;
        std::filesystem::remove_all(dest, ec);
      }
      std::error_code ec;
      std::filesystem::remove_all(parent, ec);
    }
  }
  ::close(fd);
  return 0;
}
