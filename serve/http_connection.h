// HttpConnection: one accepted client connection of the daemon's HTTP
// listener (serve/http_listener.h), and what a request handler sees of it.
//
// The listener reads a whole request — head and body — into memory before a
// handler runs, under its deadlines and bounds; a handler therefore never
// waits on the client to read: Read() serves the buffered request bytes and
// returns 0 at their end. Write() sends on the (non-blocking) socket and gives
// up at the connection's write deadline, so a client that does not read its
// response holds a worker for at most that long.
//
// Owned by one thread at a time (the listener's loop, then one worker, then
// the loop again for the next request on a kept-alive connection).
#ifndef GITDISC_SERVE_HTTP_CONNECTION_H_
#define GITDISC_SERVE_HTTP_CONNECTION_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "serve/request_head.h"

namespace gitdisc::serve {

class HttpConnection {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  HttpConnection(UniqueFd fd, std::string remote_addr, int remote_port, std::string local_addr,
                 int local_port, std::string client_key);

  int fd() const { return fd_.get(); }
  const std::string& remote_addr() const { return remote_addr_; }
  int remote_port() const { return remote_port_; }
  const std::string& local_addr() const { return local_addr_; }
  int local_port() const { return local_port_; }
  // The per-client accounting key (an IPv4 address, or an IPv6 /64).
  const std::string& client_key() const { return client_key_; }

  // The current request (valid while a handler serves it).
  const RequestHead& head() const { return head_; }
  // Request bytes not read yet (head + body); 0 at their end.
  size_t Read(char* out, size_t n);
  bool HasUnread() const { return read_pos_ < request_len_; }
  // Sends every byte before the write deadline. false: error, peer gone, or
  // the deadline passed (the connection is then unusable).
  bool Write(const char* data, size_t n);
  // Whether the socket can take more bytes now (without waiting).
  bool Writable() const;
  // Requests served on this connection so far.
  int served() const { return served_; }

 private:
  friend class HttpListener;

  UniqueFd fd_;
  std::string remote_addr_;
  int remote_port_ = 0;
  std::string local_addr_;
  int local_port_ = 0;
  std::string client_key_;

  // Bytes received and not yet consumed: the current request first
  // ([0, request_len_) once complete), then whatever the client pipelined.
  std::string buf_;
  size_t request_len_ = 0;
  size_t read_pos_ = 0;
  RequestHead head_;
  size_t head_len_ = 0;
  size_t body_reserved_ = 0;  // bytes of the listener's body budget held
  TimePoint started_{};       // when the listener began waiting for this request
  TimePoint deadline_{};      // head or body deadline (listener), write deadline (worker)
  bool in_body_ = false;
  bool sent_continue_ = false;
  int served_ = 0;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_HTTP_CONNECTION_H_
