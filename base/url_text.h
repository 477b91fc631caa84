// What of a URL may be shown: RedactUrl keeps scheme, host, port and path and
// drops the userinfo ("user:token@"), the query and the fragment, which is
// where credentials travel (`https://TOKEN@git.example/repo`,
// `?access_token=…`). Every log line, status field, event and error that
// names a URL given by a user or a spec goes through it.
//
// UrlUserinfo: the userinfo of a scheme://userinfo@host/… URL ("" if none),
// for refusing credentials in URLs before anything uses them.
// Pure; thread-safe.
#ifndef GITDISC_BASE_URL_TEXT_H_
#define GITDISC_BASE_URL_TEXT_H_

#include <string>
#include <string_view>

namespace gitdisc {

std::string RedactUrl(std::string_view url);
std::string_view UrlUserinfo(std::string_view url);

}  // namespace gitdisc

#endif  // GITDISC_BASE_URL_TEXT_H_
