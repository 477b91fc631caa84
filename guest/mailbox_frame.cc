#include "guest/mailbox_frame.h"

#include <charconv>
#include <vector>

#include "base/base64.h"

namespace gitdisc::guest {
namespace {

constexpr char kMagic[] = "gdm1";
constexpr uint64_t kMaxOffset = uint64_t{1} << 53;

Result<uint64_t> ParseOffset(std::string_view s, const char* what) {
  uint64_t v = 0;
  if (s.empty() || s.size() > 16 || (s.size() > 1 && s[0] == '0')) {
    return Status::Invalid(std::string("mailbox frame: bad ") + what);
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > kMaxOffset) {
    return Status::Invalid(std::string("mailbox frame: bad ") + what);
  }
  return v;
}

}  // namespace

bool IsMailboxSession(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

Result<std::string> EncodeMailboxFrame(const MailboxFrame& f) {
  if (!IsMailboxSession(f.session)) return Status::Invalid("mailbox frame: bad session id");
  if (f.data.size() > kMailboxWindowBytes) {
    return Status::Invalid("mailbox frame: " + std::to_string(f.data.size()) +
                           " bytes exceed the window");
  }
  if (f.offset > kMaxOffset || f.ack > kMaxOffset) {
    return Status::Invalid("mailbox frame: offset out of range");
  }
  std::string out = kMagic;
  out += ' ';
  out += f.session;
  out += ' ';
  out += std::to_string(f.offset);
  out += ' ';
  out += std::to_string(f.ack);
  out += f.fin ? " fin " : " - ";
  out += EncodeBase64(f.data);
  return out;
}

Result<MailboxFrame> DecodeMailboxFrame(std::string_view value) {
  if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
  if (value.size() > kMailboxMaxValueBytes) return Status::Invalid("mailbox frame: too long");
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t i = 0; i <= value.size() && fields.size() < 6; ++i) {
    if (i == value.size() || value[i] == ' ') {
      fields.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  // The data field is last and may hold no spaces (base64 has none).
  if (fields.size() != 6 || start < value.size()) {
    return Status::Invalid("mailbox frame: want 6 space-separated fields");
  }
  if (fields[0] != kMagic) return Status::Invalid("mailbox frame: unknown format");
  MailboxFrame f;
  if (!IsMailboxSession(fields[1])) return Status::Invalid("mailbox frame: bad session id");
  f.session = std::string(fields[1]);
  GITDISC_ASSIGN_OR_RETURN(f.offset, ParseOffset(fields[2], "offset"));
  GITDISC_ASSIGN_OR_RETURN(f.ack, ParseOffset(fields[3], "ack"));
  if (fields[4] == "fin") {
    f.fin = true;
  } else if (fields[4] != "-") {
    return Status::Invalid("mailbox frame: bad flags");
  }
  auto data = DecodeBase64(fields[5]);
  if (!data.ok()) return Status::Invalid("mailbox frame: " + data.status().message());
  if (data->size() > kMailboxWindowBytes) return Status::Invalid("mailbox frame: data too long");
  f.data = std::move(data).value();
  return f;
}

}  // namespace gitdisc::guest
