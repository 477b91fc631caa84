#include "providers/vsphere_uri.h"

#include <cerrno>
#include <cstdlib>

#include "base/file_util.h"

namespace gitdisc {
namespace {

constexpr std::string_view kScheme = "vsphere://";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Unescape(std::string_view s, const char* what) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? HexDigit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Status::Invalid(std::string("bad %-escape in the ") + what);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.find('\0') != std::string::npos) {
    return Status::Invalid(std::string("NUL in the ") + what);
  }
  return out;
}

bool ParseBool(const std::string& v, bool* out) {
  if (v == "1" || v == "true" || v == "yes") {
    *out = true;
    return true;
  }
  if (v == "0" || v == "false" || v == "no") {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

bool IsVsphereUri(std::string_view uri) { return uri.substr(0, kScheme.size()) == kScheme; }

std::string RedactUri(std::string_view uri) {
  size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) return std::string(uri);
  size_t start = scheme + 3;
  size_t end = uri.find_first_of("/?#", start);
  std::string_view authority = uri.substr(start, end == std::string_view::npos ? end : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(uri);
  size_t colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(uri);
  std::string out(uri.substr(0, start + colon + 1));
  out += "***";
  out += uri.substr(start + at);
  return out;
}

Result<VsphereTarget> ParseVsphereUri(const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("vSphere URI " + RedactUri(uri) + ": " + why +
                           " (want vsphere://USER@HOST[:PORT]/DATACENTER?passwordFile=PATH)");
  };
  if (!IsVsphereUri(uri)) return bad("not a vsphere:// URI");
  VsphereTarget t;
  t.uri = uri;
  std::string_view rest = std::string_view(uri).substr(kScheme.size());
  size_t path_start = rest.find('/');
  if (path_start == std::string_view::npos) return bad("no /DATACENTER");
  std::string_view authority = rest.substr(0, path_start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return bad("no USER@");
  std::string_view userinfo = authority.substr(0, at);
  if (userinfo.find(':') != std::string_view::npos) {
    return bad("a password in the URI is refused; put it in a file and give passwordFile=PATH");
  }
  GITDISC_ASSIGN_OR_RETURN(t.user, Unescape(userinfo, "user"));
  if (t.user.empty()) return bad("empty user");
  std::string_view hostport = authority.substr(at + 1);
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unclosed [IPv6 address]");
    t.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after the host");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = hostport.rfind(':');
    t.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      has_port = true;
    }
  }
  if (t.host.empty()) return bad("empty host");
  if (t.host.find_first_of(" /\\@") != std::string::npos) return bad("bad host name");
  if (has_port) {
    char* end = nullptr;
    std::string p(port);
    long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v <= 0 || v > 65535) return bad("bad port");
    t.port = static_cast<int>(v);
  }
  std::string_view path = rest.substr(path_start + 1);
  std::string_view query;
  size_t q = path.find('?');
  if (q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path.find('#') != std::string_view::npos) return bad("fragments are not allowed");
  GITDISC_ASSIGN_OR_RETURN(t.datacenter, Unescape(path, "datacenter"));
  while (!t.datacenter.empty() && t.datacenter.back() == '/') t.datacenter.pop_back();
  if (t.datacenter.empty()) return bad("no DATACENTER");
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    GITDISC_ASSIGN_OR_RETURN(std::string value,
                             Unescape(eq == std::string_view::npos ? "" : kv.substr(eq + 1),
                                      "query"));
    if (key == "passwordFile") {
      t.password_file = value;
    } else if (key == "caFile") {
      t.ca_file = value;
    } else if (key == "insecure") {
      if (!ParseBool(value, &t.insecure)) return bad("insecure must be 1 or 0");
    } else {
      return bad("unknown parameter '" + key + "'");
    }
  }
  if (t.password_file.empty()) return bad("passwordFile=PATH is required");
  return t;
}

Result<std::string> ReadPasswordFile(const std::string& path) {
  auto text = ReadFile(path, 64 * 1024);
  if (!text.ok()) return text.status().Annotate("vSphere passwordFile");
  std::string pw = text->substr(0, text->find('\n'));
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  if (pw.empty()) return Status::Invalid("vSphere passwordFile " + path + " is empty");
  return pw;
}

}  // namespace gitdisc
