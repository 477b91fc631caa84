// A statically linked verifier: proves the iso reader links the way the
// guest agent needs (tests/iso/CMakeLists.txt). Usage: iso_static_reader FILE
// Exit 0 ok, 1 mismatch, 2 unreadable.
#include <cstdio>

#include "iso/iso_reader.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  auto reader = gitdisc::iso::IsoReader::Open(argv[1], {std::chrono::seconds(2)});
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
    return 2;
  }
  auto report = (*reader)->Verify();
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 2;
  }
  for (const auto& p : report->mismatches) std::printf("mismatch %s\n", p.path.c_str());
  for (const auto& p : report->missing) std::printf("missing %s\n", p.path.c_str());
  for (const auto& p : report->extra) std::printf("extra %s\n", p.path.c_str());
  if (!report->ok()) return 1;
  std::printf("ok %s\n", report->manifest.digest.c_str());
  return 0;
}
