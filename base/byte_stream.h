// ByteStream: a bidirectional byte pipe with read timeouts — the transport
// under the host-agent protocol. On the host it wraps a libvirt channel stream
// (providers/), in the guest the virtio-serial port, in tests a socketpair.
//
// One thread may read while another writes; two concurrent readers (or
// writers) are not allowed.
#ifndef GITDISC_BASE_BYTE_STREAM_H_
#define GITDISC_BASE_BYTE_STREAM_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to n bytes. Returns the count (> 0), 0 at end of stream, or
  // kTimeout when nothing arrived within `timeout`.
  virtual Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) = 0;
  // Writes all of data or fails.
  virtual Status Write(std::string_view data) = 0;
  // Ends the stream; later calls fail. Idempotent.
  virtual void Close() = 0;
};

// A ByteStream over a file descriptor (socket, pipe end, character device).
// Takes ownership of fd and closes it.
std::unique_ptr<ByteStream> MakeFdStream(int fd);

}  // namespace gitdisc

#endif  // GITDISC_BASE_BYTE_STREAM_H_
