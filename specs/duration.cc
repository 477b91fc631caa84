#include "specs/duration.h"

#include "base/duration.h"

namespace gitdisc::specs {

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  GITDISC_ASSIGN_OR_RETURN(std::chrono::milliseconds ms, ::gitdisc::ParseDuration(text));
  const std::string shown(text.substr(0, 40));
  if (ms % std::chrono::seconds(1) != std::chrono::milliseconds(0)) {
    return Status::Invalid("'" + shown + "' is not a whole number of seconds");
  }
  auto d = std::chrono::duration_cast<std::chrono::seconds>(ms);
  if (d > kMaxDuration) {
    return Status::Invalid("'" + shown + "' is longer than " + FormatDuration(kMaxDuration));
  }
  return d;
}

std::string FormatDuration(std::chrono::seconds d) { return ::gitdisc::FormatDuration(d); }

}  // namespace gitdisc::specs
