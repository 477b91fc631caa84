// libFuzzer target: the `gitdisc serve` configuration parser
// (serve/serve_config.h) on arbitrary bytes. The file name points into a
// folder that does not exist, so relative secret-file paths resolve to
// nothing. Checked promises: a configuration comes back only without
// diagnostics, every diagnostic is located in this file and has a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/serve_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gitdisc::serve;
  const std::string file = "/nonexistent-gitdisc-fuzz/serve.yaml";
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ServeConfigResult r = ParseServeConfig(text, file);
  if (r.config.has_value() != r.diagnostics.empty()) __builtin_trap();
  for (const auto& d : r.diagnostics) {
    if (d.pos.file != file || d.message.empty()) __builtin_trap();
  }
  if (r.config) {
    if (r.config->listen_port < 0 || r.config->listen_port > 65535) __builtin_trap();
    if (r.config->source.interval.count() <= 0) __builtin_trap();
  }
  return 0;
}
