// libFuzzer target: the bundle manifest parser (iso/manifest.h) on arbitrary
// bytes. The manifest is the first thing the agent reads from a disc it does
// not trust yet, so besides sanitizer reports it checks the parser's promise
// that whatever it accepts renders back to a manifest that parses to the same
// value (RenderManifest never produces what ParseManifest would reject).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iso/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gitdisc::iso;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseManifest(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) __builtin_trap();
    return 0;
  }
  std::string again = RenderManifest(*parsed);
  auto back = ParseManifest(again);
  if (!back.ok() || !(*back == *parsed)) __builtin_trap();
  return 0;
}
