// Base64 (RFC 4648, standard alphabet, with padding): the framing of the
// vSphere guestinfo mailbox (guest/mailbox_frame.h), whose values must be
// printable text, and how SSH public keys and signatures are written in
// allowed_signers files and armored SSH signatures (specs/allowed_signers.h).
//
// DecodeBase64 is strict: only the alphabet, padding only at the end, length
// a multiple of 4, no whitespace; anything else is kInvalid (the input comes
// from a guest or a commit).
// Pure functions, thread-safe.
#ifndef GITDISC_BASE_BASE64_H_
#define GITDISC_BASE_BASE64_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

std::string EncodeBase64(std::string_view bytes);
Result<std::string> DecodeBase64(std::string_view text);
// The encoded length of n bytes.
constexpr size_t Base64Length(size_t n) { return (n + 2) / 3 * 4; }

}  // namespace gitdisc

#endif  // GITDISC_BASE_BASE64_H_
