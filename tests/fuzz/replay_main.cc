// Replays files through a libFuzzer entry point without libFuzzer, so every
// fuzz target is compiled, and its seed corpus and every crash regression run,
// in the ordinary (gcc, sanitizer) builds. Usage: <target>_replay PATH...
// where each PATH is a file or a folder (read recursively; a missing folder is
// skipped). Fails when no file at all was found, so a mistyped path cannot
// pass silently. A finding aborts (the targets trap on broken promises).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int RunFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.c_str());
    return -1;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay %s (%zu bytes)\n", p.c_str(), bytes.size());
  // A copy of exactly the input size, so ASan sees reads past its end.
  std::vector<uint8_t> exact(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    fs::path arg = argv[i];
    std::error_code ec;
    if (fs::is_regular_file(arg, ec)) {
      int n = RunFile(arg);
      if (n < 0) return 1;
      files += n;
    } else if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> paths;
      for (const auto& e : fs::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) paths.push_back(e.path());
      }
      std::sort(paths.begin(), paths.end());
      for (const auto& p : paths) {
        int n = RunFile(p);
        if (n < 0) return 1;
        files += n;
      }
    }
  }
  if (files == 0) {
    std::fprintf(stderr, "no input files found\n");
    return 1;
  }
  std::printf("replayed %d file(s) without a finding\n", files);
  return 0;
}
