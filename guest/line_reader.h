// LineReader: splits a ByteStream into '\n'-terminated lines of bounded size,
// for the host <-> agent protocol (guest/protocol.h). A line longer than the
// bound is reported once as kInvalid ("too long") and skipped up to its
// newline, so one bad message never desynchronises the stream.
//
// What it promises against a hostile peer (docs/security.md):
//   - bounded memory: it holds at most one read chunk plus one line of
//     max_line_bytes (a line in progress beyond the bound is dropped, not
//     kept);
//   - linear time: every byte received is searched for '\n' once and moved
//     at most once (consumed lines advance an offset; the buffer is compacted
//     only when the consumed part is at least half of it), so a flood of
//     empty lines costs O(bytes), not O(bytes x lines) — bytes_scanned()
//     counts the search work, for tests;
//   - deadlines that data cannot extend: ReadLineUntil checks its deadline
//     before every read, so a peer that keeps sending bytes without a newline
//     (or an endless over-long line) cannot keep it reading past the deadline.
//
// Not thread-safe; one reader per stream (ByteStream allows one reader while
// another thread writes). Does not own the stream.
#ifndef GITDISC_GUEST_LINE_READER_H_
#define GITDISC_GUEST_LINE_READER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/byte_stream.h"
#include "base/status.h"

namespace gitdisc::guest {

class LineReader {
 public:
  LineReader(ByteStream* stream, size_t max_line_bytes);

  // The next line without its '\n'. Failures: kTimeout when no full line
  // arrived by `deadline` (bytes read so far are kept for the next call);
  // kUnavailable at end of stream; kInvalid for an over-long line (already
  // skipped, or being skipped: call again); other codes from the stream.
  // A whole line already buffered is returned even past the deadline.
  Result<std::string> ReadLineUntil(std::chrono::steady_clock::time_point deadline);
  // The same with a deadline `timeout` from now.
  Result<std::string> ReadLine(std::chrono::milliseconds timeout);

  // Forgets any partial line (after a reconnect).
  void Reset();

  // Bytes of a line in progress (received, no '\n' yet), including those of
  // an over-long line being skipped.
  uint64_t pending_bytes() const;
  // Work done so far: bytes searched for '\n', bytes received.
  uint64_t bytes_scanned() const { return scanned_total_; }
  uint64_t bytes_received() const { return received_total_; }
  // Bytes moved by compaction, and bytes held now (tests of the bounds).
  uint64_t bytes_moved() const { return moved_total_; }
  uint64_t buffered_bytes() const { return buf_.size(); }

 private:
  // When buf_ holds a whole line: consumes it, sets *out (the line, or
  // kInvalid when it is too long) and returns true.
  bool TakeBufferedLine(Result<std::string>* out);
  void Compact();

  ByteStream* stream_;
  size_t max_;
  std::string buf_;
  size_t start_ = 0;         // first unconsumed byte of buf_
  size_t searched_ = 0;      // buf_[start_, searched_) holds no '\n'
  bool discarding_ = false;  // inside an over-long line: drop bytes up to '\n'
  uint64_t discarded_ = 0;   // bytes of that line dropped so far
  uint64_t scanned_total_ = 0;
  uint64_t received_total_ = 0;
  uint64_t moved_total_ = 0;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_LINE_READER_H_
