#include "serve/request_head.h"

#include <algorithm>
#include <cctype>

namespace gitdisc::serve {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Strict Content-Length: 1 to 19 digits (fits uint64_t).
std::optional<uint64_t> ParseLength(std::string_view v) {
  if (v.empty() || v.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

bool ParseRequestLine(std::string_view line, RequestHead* h) {
  // "METHOD SP TARGET SP VERSION" (CRLF already removed).
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  if (line.find(' ', sp2 + 1) != std::string_view::npos) return false;
  h->method = std::string(line.substr(0, sp1));
  h->target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  h->version = std::string(line.substr(sp2 + 1));
  if (h->version != "HTTP/1.1" && h->version != "HTTP/1.0") return false;
  for (char c : h->method) {
    if (c < 'A' || c > 'Z') return false;
  }
  h->path = h->target.substr(0, h->target.find_first_of("?#"));
  return !h->path.empty();
}

}  // namespace

bool MethodNeedsLength(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

HeadScan ScanHead(std::string_view bytes, const HeadLimits& limits) {
  HeadScan scan;
  size_t pos = 0;
  int lines = -1;  // the request line is not a header line
  for (;;) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (bytes.size() > limits.max_bytes) scan.state = HeadScan::State::kTooLarge;
      return scan;
    }
    size_t end = nl + 1;
    if (end > limits.max_bytes) {
      scan.state = HeadScan::State::kTooLarge;
      return scan;
    }
    bool blank = end - pos == 2 && bytes[pos] == '\r';
    if (lines >= 0 && blank) {
      scan.state = HeadScan::State::kComplete;
      scan.length = end;
      return scan;
    }
    if (++lines > limits.max_lines) {
      scan.state = HeadScan::State::kTooManyLines;
      return scan;
    }
    pos = end;
  }
}

std::optional<RequestHead> ParseHead(std::string_view head) {
  RequestHead h;
  size_t nl = head.find('\n');
  if (nl == std::string_view::npos || nl == 0 || head[nl - 1] != '\r') return std::nullopt;
  if (!ParseRequestLine(head.substr(0, nl - 1), &h)) return std::nullopt;
  bool keep_alive = false;
  size_t pos = nl + 1;
  while (pos < head.size()) {
    size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) break;
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 1;
    // Like cpp-httplib: a line not ending in CRLF is skipped.
    if (line.empty() || line.back() != '\r') continue;
    line.remove_suffix(1);
    if (line.empty()) break;  // the blank line that ends the head
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // cpp-httplib ignores it too
    if (colon == 0) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsNoCase(name, "Content-Length")) {
      auto n = ParseLength(value);
      if (!n || (h.content_length && *h.content_length != *n)) return std::nullopt;
      h.content_length = n;
    } else if (EqualsNoCase(name, "Transfer-Encoding")) {
      h.transfer_encoding = true;
    } else if (EqualsNoCase(name, "Host")) {
      if (h.host && *h.host != value) return std::nullopt;  // two different hosts
      h.host = std::string(value);
    } else if (EqualsNoCase(name, "Connection")) {
      if (EqualsNoCase(value, "close")) h.connection_close = true;
      if (EqualsNoCase(value, "keep-alive")) keep_alive = true;
    } else if (EqualsNoCase(name, "Expect")) {
      h.expect_continue = EqualsNoCase(value, "100-continue");
    }
  }
  if (h.version == "HTTP/1.0" && !keep_alive) h.connection_close = true;
  return h;
}

}  // namespace gitdisc::serve
