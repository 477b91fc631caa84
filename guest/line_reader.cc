#include "guest/line_reader.h"

namespace gitdisc::guest {

LineReader::LineReader(ByteStream* stream, size_t max_line_bytes)
    : stream_(stream), max_(max_line_bytes) {}

void LineReader::Reset() {
  buf_.clear();
  discarding_ = false;
}

Result<std::string> LineReader::ReadLine(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      if (discarding_) {
        buf_.erase(0, nl + 1);
        discarding_ = false;
        continue;
      }
      if (nl + 1 > max_) {
        buf_.erase(0, nl + 1);
        return Status::Invalid("line longer than " + std::to_string(max_) + " bytes");
      }
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (discarding_) {
      buf_.clear();
    } else if (buf_.size() >= max_) {
      // No newline within the bound: drop what we have and the rest of the line.
      buf_.clear();
      discarding_ = true;
      return Status::Invalid("line longer than " + std::to_string(max_) + " bytes");
    }
    auto now = std::chrono::steady_clock::now();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    char chunk[65536];
    Result<size_t> got = stream_->Read(chunk, sizeof chunk, left);
    if (!got.ok()) return got.status();
    if (*got == 0) return Status::Unavailable("end of stream");
    buf_.append(chunk, *got);
  }
}

}  // namespace gitdisc::guest
