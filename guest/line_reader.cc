#include "guest/line_reader.h"

#include <cstring>

namespace gitdisc::guest {
namespace {

// Below this, consumed bytes are not worth moving: the buffer is only
// compacted once they are at least this many and at least half of it.
constexpr size_t kCompactMin = 64 * 1024;

Status TooLong(size_t max) {
  return Status::Invalid("line longer than " + std::to_string(max) + " bytes");
}

}  // namespace

LineReader::LineReader(ByteStream* stream, size_t max_line_bytes)
    : stream_(stream), max_(max_line_bytes) {}

void LineReader::Reset() {
  buf_.clear();
  start_ = searched_ = 0;
  discarding_ = false;
  discarded_ = 0;
}

uint64_t LineReader::pending_bytes() const { return discarded_ + (buf_.size() - start_); }

void LineReader::Compact() {
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = searched_ = 0;
  } else if (start_ >= kCompactMin && start_ * 2 >= buf_.size()) {
    // Moves fewer bytes than were consumed since the last compaction: each
    // byte is moved at most once, on average.
    moved_total_ += buf_.size() - start_;
    buf_.erase(0, start_);
    searched_ -= start_;
    start_ = 0;
  }
}

bool LineReader::TakeBufferedLine(Result<std::string>* out) {
  for (;;) {
    const size_t n = buf_.size() - searched_;
    const char* from = buf_.data() + searched_;
    const char* nl = n ? static_cast<const char*>(std::memchr(from, '\n', n)) : nullptr;
    if (!nl) {
      scanned_total_ += n;
      searched_ = buf_.size();
      return false;
    }
    scanned_total_ += static_cast<size_t>(nl - from) + 1;
    const size_t end = static_cast<size_t>(nl - buf_.data());
    const size_t len = end - start_;
    const bool skipping = discarding_;
    const bool too_long = !skipping && len + 1 > max_;
    if (!skipping && !too_long) *out = buf_.substr(start_, len);
    start_ = searched_ = end + 1;
    discarding_ = false;
    discarded_ = 0;
    Compact();
    if (skipping) continue;  // the end of a line already reported too long
    if (too_long) *out = TooLong(max_);
    return true;
  }
}

Result<std::string> LineReader::ReadLine(std::chrono::milliseconds timeout) {
  return ReadLineUntil(std::chrono::steady_clock::now() + timeout);
}

Result<std::string> LineReader::ReadLineUntil(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    Result<std::string> line = Status::Internal("no line");
    if (TakeBufferedLine(&line)) return line;
    // No '\n' in the buffer: a line in progress. Past the bound it is
    // dropped as it arrives, so an endless line costs no memory.
    const size_t partial = buf_.size() - start_;
    if (discarding_ || partial >= max_) {
      discarded_ += partial;
      buf_.resize(start_);
      Compact();
      if (!discarding_) {
        discarding_ = true;
        return TooLong(max_);
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::Timeout("no whole line before the deadline");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    char chunk[65536];
    Result<size_t> got = stream_->Read(chunk, sizeof chunk, left);
    if (!got.ok()) return got.status();
    if (*got == 0) return Status::Unavailable("end of stream");
    received_total_ += *got;
    buf_.append(chunk, *got);
  }
}

}  // namespace gitdisc::guest
