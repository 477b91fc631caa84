#include "base/byte_size.h"

#include <array>
#include <cstdio>
#include <utility>

namespace gitdisc {

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&text](const char* why) {
    return Status::Invalid("'" + std::string(text) + "' is not a byte size (" + why +
                           "; write e.g. 10GiB, 512MiB or 1073741824)");
  };
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (n > (UINT64_MAX - digit) / 10) return bad("too large");
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) return bad("no number");
  while (i < text.size() && text[i] == ' ') ++i;
  std::string_view unit = text.substr(i);
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 13> kUnits = {{
      {"", 1},
      {"B", 1},
      {"K", 1ull << 10},
      {"KiB", 1ull << 10},
      {"M", 1ull << 20},
      {"MiB", 1ull << 20},
      {"G", 1ull << 30},
      {"GiB", 1ull << 30},
      {"T", 1ull << 40},
      {"TiB", 1ull << 40},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000 * 1000 * 1000},
  }};
  uint64_t scale = 0;
  for (const auto& [name, value] : kUnits) {
    if (unit == name) scale = value;
  }
  if (unit == "TB") scale = 1000ull * 1000 * 1000 * 1000;
  if (scale == 0) return bad("unknown unit");
  if (n > UINT64_MAX / scale) return bad("too large");
  return n * scale;
}

std::string FormatByteSize(uint64_t bytes) {
  static const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kNames[u]);
  return buf;
}

}  // namespace gitdisc
