// libFuzzer target: the protocol decoders on arbitrary lines, both
// directions. Whatever decodes must re-encode to a line that decodes to the
// same message (the encoders never produce what the peer would reject).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "guest/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gitdisc::guest;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto host = DecodeHostMessage(line);
  if (host.ok()) {
    std::string again = EncodeHostMessage(*host);
    auto back = DecodeHostMessage(again);
    if (!back.ok() || !(*back == *host)) std::abort();
  } else {
    (void)ErrorForBadLine(line, host.status());
  }
  auto agent = DecodeAgentMessage(line);
  if (agent.ok()) {
    std::string again = EncodeAgentMessage(*agent);
    if (again.size() > kMaxLineBytes) std::abort();
    auto back = DecodeAgentMessage(again);
    if (!back.ok()) std::abort();
  }
  (void)BoundedUtf8Tail(line, 64);
  return 0;
}
