// Byte sizes as people write them in configs and flags (`cache: {maxBytes:
// 10GiB}`, `--cache-max 512MiB`), and back for output.
//
// ParseByteSize accepts a whole number followed by an optional unit, with
// optional space between: no unit or "B" = bytes; "KiB", "MiB", "GiB", "TiB"
// and the short "K", "M", "G", "T" = powers of 1024; "KB", "MB", "GB", "TB" =
// powers of 1000. Units are case-sensitive as written here. kInvalid for
// anything else (negative, fractional, overflowing 64 bits), with the text
// in the message.
//
// Pure functions; thread-safe.
#ifndef GITDISC_BASE_BYTE_SIZE_H_
#define GITDISC_BASE_BYTE_SIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

Result<uint64_t> ParseByteSize(std::string_view text);

// "0 B", "812 B", "1.5 KiB", "10.0 GiB": binary units, one decimal.
std::string FormatByteSize(uint64_t bytes);

}  // namespace gitdisc

#endif  // GITDISC_BASE_BYTE_SIZE_H_
