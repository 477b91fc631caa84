// RequestHead: the framing facts of one HTTP/1.x request head, found by the
// daemon's listener before any handler runs (serve/http_listener.h), so that
// nobody waits on a client that never finishes its head or body.
//
// ScanHead finds where a head ends in the bytes received so far, with the
// same line rules as cpp-httplib's reader (lines end at '\n'; the head ends at
// the first line that is exactly "\r\n" after the request line), so both see
// the same head. It is bounded: a head longer than max_bytes or with more
// than max_lines header lines is refused however the bytes arrive — a line
// without a newline cannot grow memory past the bound.
//
// ParseHead reads what the listener needs to route and frame the request:
// method, path, Content-Length (strict: digits only, one value), whether a
// Transfer-Encoding was sent, Host, Connection: close and Expect. It does not
// replace cpp-httplib's parser; it only decides whether a request may reach it.
//
// Pure functions over bytes; thread-safe.
#ifndef GITDISC_SERVE_REQUEST_HEAD_H_
#define GITDISC_SERVE_REQUEST_HEAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gitdisc::serve {

struct HeadLimits {
  size_t max_bytes = 16 * 1024;  // request line + headers + the final CRLF
  int max_lines = 100;           // header lines after the request line
};

struct HeadScan {
  enum class State {
    kIncomplete,   // need more bytes
    kComplete,     // the head is bytes [0, length)
    kTooLarge,     // over max_bytes without an end (431)
    kTooManyLines  // over max_lines (431)
  };
  State state = State::kIncomplete;
  size_t length = 0;
};

// Scans `bytes` (everything received on the connection for this request so
// far). Linear in bytes.size(); callers bound bytes.size() by
// limits.max_bytes plus one read.
HeadScan ScanHead(std::string_view bytes, const HeadLimits& limits);

struct RequestHead {
  std::string method;   // as sent ("GET", "POST", ...)
  std::string target;   // request target as sent ("/api/v1/plan?rev=x")
  std::string path;     // target up to '?' or '#'
  std::string version;  // "HTTP/1.1"
  std::optional<uint64_t> content_length;
  bool transfer_encoding = false;  // any Transfer-Encoding header
  std::optional<std::string> host;
  bool connection_close = false;  // "Connection: close", or HTTP/1.0 without keep-alive
  bool expect_continue = false;   // "Expect: 100-continue"
};

// Parses a complete head (as found by ScanHead). nullopt: malformed request
// line, a Content-Length that is not plain digits or is given twice with
// different values, or a header without a name (400).
std::optional<RequestHead> ParseHead(std::string_view head);

// Methods that carry a body: without a Content-Length they get 411 (a
// request of another method without one has no body, RFC 9112 §6.3).
bool MethodNeedsLength(std::string_view method);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_REQUEST_HEAD_H_
