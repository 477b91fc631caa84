// SshWireReader: reads the SSH wire encoding (RFC 4251 §5: uint32, string)
// from untrusted bytes — public key blobs and SSHSIG signatures — with every
// length checked against what is left. Parsing only; no cryptography.
// A value type; not thread-safe to share while reading.
#ifndef GITDISC_SPECS_SSH_WIRE_H_
#define GITDISC_SPECS_SSH_WIRE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace gitdisc::specs {

class SshWireReader {
 public:
  explicit SshWireReader(std::string_view bytes) : rest_(bytes) {}

  std::optional<uint32_t> U32() {
    if (rest_.size() < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(rest_[i]);
    rest_.remove_prefix(4);
    return v;
  }
  // A length-prefixed string; views into the input.
  std::optional<std::string_view> String() {
    auto n = U32();
    if (!n || *n > rest_.size()) return std::nullopt;
    std::string_view s = rest_.substr(0, *n);
    rest_.remove_prefix(*n);
    return s;
  }
  // Exactly `n` raw bytes.
  std::optional<std::string_view> Raw(size_t n) {
    if (n > rest_.size()) return std::nullopt;
    std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SSH_WIRE_H_
