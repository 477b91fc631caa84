// Spec durations (payload `timeout`): the one duration grammar of
// base/duration.h ("90s", "5m", "1h30m"), in whole seconds, at least 1s and
// at most kMaxDuration. Pure functions, thread-safe.
#ifndef GITDISC_SPECS_DURATION_H_
#define GITDISC_SPECS_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc::specs {

// The longest duration a spec may ask for: 7 days (keeps arithmetic far from
// overflow and catches unit slips like `5000h`).
inline constexpr std::chrono::seconds kMaxDuration{7 * 24 * 3600};

// kInvalid with a message saying what is wrong.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// The shortest exact spelling: 600s → "10m", 90s → "1m30s", 7200s → "2h".
std::string FormatDuration(std::chrono::seconds d);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_DURATION_H_
