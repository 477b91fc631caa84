// FetchUrl: downloads one `url:` artifact (DESIGN.md §3) under rules that a
// spec author, or whoever serves the URL, cannot stretch:
//   - https:// only, unless allow_http (the sha256 pin holds either way, but
//     plain http shows what the fleet installs to the network);
//   - redirects are followed by hand, at most max_redirects, and only to the
//     same scheme (never from https down to http, nor up, so a check of the
//     first URL holds for the last);
//   - one deadline for the whole download (connect, redirects, every byte),
//     enforced by stopping the client from a watchdog, so a server that
//     drips a byte now and then or stops sending cannot hold it longer;
//   - at most max_bytes, checked while the bytes stream in (an announced
//     Content-Length over it stops the download before the body).
// Messages name the URL through RedactUrl (no userinfo, no query) and never
// quote what the server sent.
//
// Thread-compatible: one call per thread; calls are independent.
#ifndef GITDISC_SPECS_URL_FETCH_H_
#define GITDISC_SPECS_URL_FETCH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"

namespace gitdisc::specs {

struct UrlFetchOptions {
  uint64_t max_bytes = 4ull << 30;
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds read_timeout{120};  // between two reads
  std::chrono::seconds total_timeout{900};  // the whole download
  bool allow_http = false;
  int max_redirects = 5;
};

// Receives the body in pieces; returning a non-ok status stops the download
// with that status.
using UrlSink = std::function<Status(const char* data, size_t n)>;

// kInvalid: not allowed (scheme, redirect, size); kNotFound: 404;
// kUnavailable: unreachable, 5xx, cut off; kTimeout: the deadline passed.
Status FetchUrl(const std::string& url, const UrlFetchOptions& options, const UrlSink& sink);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_URL_FETCH_H_
