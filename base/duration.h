// Durations as people write them, one grammar for every place gitdisc reads
// one (spec `timeout`, the daemon config, CLI flags such as --timeout): Go's
// time.ParseDuration spelling without sign — a sequence of numbers, each
// with an optional decimal fraction and a unit: "90s", "5m", "1h30m",
// "1.5h", "250ms". Units: ms, s, m, h. Pure functions, thread-safe.
#ifndef GITDISC_BASE_DURATION_H_
#define GITDISC_BASE_DURATION_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

// A positive duration, to the millisecond. kInvalid with a message that
// quotes (at most 40 characters of) the text and says what is wrong.
// Longer than 10,000 hours is refused (a unit slip, and far from overflow).
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest exact spelling in the same grammar: 5400s → "1h30m",
// 600s → "10m", 90s → "1m30s", 250ms → "250ms".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace gitdisc

#endif  // GITDISC_BASE_DURATION_H_
