#include "specs/duration.h"

namespace gitdisc::specs {

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  std::string shown(text.substr(0, 40));
  auto bad = [&](std::string why) {
    return Status::Invalid("'" + shown + "' is not a duration: " + why +
                           " (write a whole number and a unit s, m or h, e.g. 90s, 5m, 1h)");
  };
  if (text.empty()) return bad("it is empty");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad("it does not start with a number");
  if (digits == text.size()) return bad("it has no unit");
  if (digits + 1 != text.size()) return bad("expected one unit after the number");
  long long unit = 0;
  switch (text[digits]) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    default:
      return bad(std::string("unknown unit '") + text[digits] + "'");
  }
  if (digits > 9) return bad("it is longer than " + FormatDuration(kMaxDuration));
  long long n = std::stoll(std::string(text.substr(0, digits)));
  if (n == 0) return bad("it must be longer than zero");
  std::chrono::seconds d{n * unit};
  if (d > kMaxDuration) return bad("it is longer than " + FormatDuration(kMaxDuration));
  return d;
}

std::string FormatDuration(std::chrono::seconds d) {
  long long s = d.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace gitdisc::specs
