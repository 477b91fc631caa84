// AsciiLower: lower-cases ASCII letters only (header names, hex digests,
// schemes, host names), independent of the locale. Pure; thread-safe.
#ifndef GITDISC_BASE_ASCII_H_
#define GITDISC_BASE_ASCII_H_

#include <algorithm>
#include <string>

namespace gitdisc {

inline std::string AsciiLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return s;
}

}  // namespace gitdisc

#endif  // GITDISC_BASE_ASCII_H_
