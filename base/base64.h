// Base64 (RFC 4648, standard alphabet, with padding): how SSH public keys and
// signatures are written in allowed_signers files and armored signatures.
// Pure functions; thread-safe.
#ifndef GITDISC_BASE_BASE64_H_
#define GITDISC_BASE_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace gitdisc {

std::string Base64Encode(std::string_view bytes);
// nullopt unless `text` is canonical padded base64 (no whitespace inside).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace gitdisc

#endif  // GITDISC_BASE_BASE64_H_
