#include "base/duration.h"

#include <cmath>

namespace gitdisc {
namespace {

constexpr long long kMaxMillis = 10'000LL * 3600 * 1000;

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string shown(text.substr(0, 40));
  auto bad = [&](const std::string& why) {
    return Status::Invalid("'" + shown + "' is not a duration: " + why +
                           " (write numbers with units ms, s, m or h, e.g. 90s, 5m, 1h30m)");
  };
  if (text.empty()) return bad("it is empty");
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    const std::string_view number = text.substr(start, i - start);
    if (number.empty()) {
      return bad(start == 0 ? "it does not start with a number"
                            : "expected a number at '" + std::string(text.substr(start, 10)) + "'");
    }
    if (number.find('.') != number.rfind('.') || number == "." || number.size() > 18) {
      return bad("'" + std::string(number) + "' is not a number");
    }
    const size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit.empty() && i < text.size()) {
      return bad("unexpected '" + std::string(1, text[i]) + "' after " + std::string(number));
    } else if (unit.empty()) {
      return bad("'" + std::string(number) + "' has no unit");
    } else {
      return bad("unknown unit '" + std::string(unit) + "'");
    }
    total_ms += std::stod(std::string(number)) * scale;
    if (total_ms > static_cast<double>(kMaxMillis)) return bad("it is longer than 10000h");
  }
  const auto ms = static_cast<long long>(std::llround(total_ms));
  if (ms <= 0) return bad("it must be longer than zero");
  return std::chrono::milliseconds(ms);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  for (auto [unit, size] : {std::pair{"h", 3'600'000LL}, {"m", 60'000LL}, {"s", 1'000LL}}) {
    if (ms >= size) {
      out += std::to_string(ms / size) + unit;
      ms %= size;
    }
  }
  if (ms > 0) out += std::to_string(ms) + "ms";
  return out;
}

}  // namespace gitdisc
