// Writes a small bundle ISO to argv[1] (for tests/iso checks).
#include <cstdio>

#include "iso/iso_writer.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  gitdisc::iso::Bundle b;
  gitdisc::iso::BundlePayload p;
  p.name = "hello";
  gitdisc::iso::BundleFile f;
  f.path = "install.sh";
  f.mode = 0755;
  std::string content = "#!/bin/sh\necho hello\n";
  f.size = content.size();
  f.open = [content]() -> gitdisc::Result<std::unique_ptr<gitdisc::iso::FileReader>> {
    return gitdisc::iso::MemoryReader(content);
  };
  p.files.push_back(f);
  p.run = {"./install.sh"};
  b.payloads.push_back(p);
  auto r = gitdisc::iso::WriteBundleIso(b, argv[1]);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", r->bundle_digest.c_str());
  return 0;
}
