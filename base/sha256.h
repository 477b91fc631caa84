// SHA-256 digests (OpenSSL EVP underneath), as one-shot calls or a streaming
// hasher, and lower-case hex encoding. A digest in gitdisc is always 64
// lower-case hex digits. Sha256Hasher is a value owned by one thread at a time.
#ifndef GITDISC_BASE_SHA256_H_
#define GITDISC_BASE_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

using Sha256Bytes = std::array<uint8_t, 32>;

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept;

  void Update(const void* data, size_t len);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Finishes the digest; the hasher is reset and may be reused.
  Sha256Bytes Finish();
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
// Streams a file through SHA-256 without holding it in memory.
Result<std::string> Sha256File(const std::string& path);
// The same for an open descriptor, read from its current offset to the end;
// `what` names it in errors.
Result<std::string> Sha256Fd(int fd, const std::string& what);

std::string HexEncode(const void* data, size_t len);
// True for exactly 64 lower- or upper-case hex digits.
bool IsSha256Hex(std::string_view s);

// HMAC-SHA256 of data under key, as raw bytes.
Sha256Bytes HmacSha256(std::string_view key, std::string_view data);
// Compares two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gitdisc

#endif  // GITDISC_BASE_SHA256_H_
