// PromtoolProblems: Prometheus's own checker (`promtool check metrics`, from
// Debian's prometheus package, which scripts/install-deps.sh installs) run on
// a text exposition. Tests assert that what /metrics serves is clean.
#ifndef GITDISC_TESTS_SUPPORT_PROMTOOL_H_
#define GITDISC_TESTS_SUPPORT_PROMTOOL_H_

#include <string>
#include <string_view>

namespace gitdisc::testing {

// "" when promtool accepts `text` (parses and lints clean); otherwise what
// promtool printed, or why it could not run (promtool missing counts as a
// problem: a metrics test without its checker proves nothing).
std::string PromtoolProblems(std::string_view text);

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_PROMTOOL_H_
