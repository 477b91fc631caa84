// libFuzzer target over the spec parser (ParseSpecFile: UTF-8 check, bounded
// YAML reading through yaml-cpp, validation). Built with -DGITDISC_FUZZ=ON and
// clang; docs/specs.md says how to run it. Besides crashes, leaks and
// sanitizer reports it checks the parser's promises: every diagnostic is
// located, a file that is not YAML yields an error, and only error-free
// documents come back as sets.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "specs/spec_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  gitdisc::specs::ParsedFile parsed = gitdisc::specs::ParseSpecFile("fuzz.yaml", input);
  for (const gitdisc::specs::Diagnostic& d : parsed.diagnostics) {
    if (d.pos.file != "fuzz.yaml" || d.pos.line < 1 || d.pos.column < 1 || d.message.empty()) {
      __builtin_trap();
    }
  }
  if (!parsed.yaml_ok && parsed.error_count() == 0) __builtin_trap();
  for (const gitdisc::specs::PayloadSet& s : parsed.sets) {
    if (s.name.empty() || s.payloads.empty()) __builtin_trap();
    for (const gitdisc::specs::Payload& p : s.payloads) {
      if (p.name.empty() || p.version.empty() || p.run.empty()) __builtin_trap();
    }
  }
  return 0;
}
