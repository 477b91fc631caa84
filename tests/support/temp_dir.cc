#include "tests/support/temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace gitdisc::testing {

TempDir::TempDir(std::string_view prefix) {
  auto made = gitdisc::TempDir::Make("gitdisc-" + std::string(prefix) + "-");
  if (!made.ok()) {
    std::fprintf(stderr, "TempDir: %s\n", made.status().ToString().c_str());
    std::abort();
  }
  dir_.emplace(std::move(made).value());
}

}  // namespace gitdisc::testing
