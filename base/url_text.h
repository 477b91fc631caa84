// What of a URL may be shown: RedactUrl keeps scheme, host, port and path and
// drops the userinfo ("user:token@"), the query and the fragment, which is
// where credentials travel (`https://TOKEN@git.example/repo`,
// `?access_token=…`). Every log line, status field, event and error that
// names a URL given by a user or a spec goes through it.
//
// UrlUserinfo: the userinfo of a scheme://userinfo@host/… URL ("" if none),
// for refusing credentials in URLs before anything uses them.
//
// PercentEncode: RFC 3986 percent-encoding of everything but the unreserved
// characters (and '/' when keep_slash), for a value placed in a URL path or
// query (a GitLab project "group/name", a vSphere datastore path).
// Pure; thread-safe.
#ifndef GITDISC_BASE_URL_TEXT_H_
#define GITDISC_BASE_URL_TEXT_H_

#include <string>
#include <string_view>

namespace gitdisc {

std::string RedactUrl(std::string_view url);
std::string_view UrlUserinfo(std::string_view url);
std::string PercentEncode(std::string_view text, bool keep_slash = false);

}  // namespace gitdisc

#endif  // GITDISC_BASE_URL_TEXT_H_
