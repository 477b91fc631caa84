#include "base/url_text.h"

#include <cctype>

namespace gitdisc {

std::string_view UrlUserinfo(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  return at == std::string_view::npos ? std::string_view() : authority.substr(0, at);
}

std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::string_view userinfo = UrlUserinfo(url);
  if (userinfo.empty() && url.find('@', scheme + 3) == std::string_view::npos) {
    return std::string(url);
  }
  size_t host_start = scheme + 3 + userinfo.size();
  if (host_start < url.size() && url[host_start] == '@') ++host_start;
  return std::string(url.substr(0, scheme + 3)) + std::string(url.substr(host_start));
}

std::string PercentEncode(std::string_view text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace gitdisc
