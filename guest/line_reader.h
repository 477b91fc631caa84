// LineReader: splits a ByteStream into '\n'-terminated lines of bounded size,
// for the host <-> agent protocol (guest/protocol.h). A line longer than the
// bound is reported once as kInvalid ("too long") and skipped up to its
// newline, so one bad message never desynchronises the stream.
//
// Not thread-safe; one reader per stream (ByteStream allows one reader while
// another thread writes). Does not own the stream.
#ifndef GITDISC_GUEST_LINE_READER_H_
#define GITDISC_GUEST_LINE_READER_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "base/byte_stream.h"
#include "base/status.h"

namespace gitdisc::guest {

class LineReader {
 public:
  LineReader(ByteStream* stream, size_t max_line_bytes);

  // The next line without its '\n'. Failures: kTimeout when no full line
  // arrived within `timeout` (bytes read so far are kept for the next call);
  // kUnavailable at end of stream; kInvalid for an over-long line (already
  // skipped: call again); other codes from the stream.
  Result<std::string> ReadLine(std::chrono::milliseconds timeout);

  // Forgets any partial line (after a reconnect).
  void Reset();

 private:
  ByteStream* stream_;
  size_t max_;
  std::string buf_;
  bool discarding_ = false;  // inside an over-long line: drop bytes up to '\n'
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_LINE_READER_H_
