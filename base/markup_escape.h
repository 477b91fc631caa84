// Escaping text for XML and HTML (libvirt domain and volume XML, the status
// page). One function serves both: the five characters that can end a text
// node or an attribute value are replaced, and the apostrophe becomes the
// numeric reference &#39;, which XML 1.0 and every HTML version accept
// (&apos; is not HTML 4). The result is safe inside element content and
// inside attribute values quoted with either ' or ".
#ifndef GITDISC_BASE_MARKUP_ESCAPE_H_
#define GITDISC_BASE_MARKUP_ESCAPE_H_

#include <string>
#include <string_view>

namespace gitdisc {

std::string EscapeMarkup(std::string_view text);

}  // namespace gitdisc

#endif  // GITDISC_BASE_MARKUP_ESCAPE_H_
