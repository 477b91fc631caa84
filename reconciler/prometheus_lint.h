// A strict checker of the Prometheus text exposition format 0.0.4, for tests
// of GET /metrics on machines without `promtool` (Debian ships it only inside
// the whole `prometheus` server package). It checks what `promtool check
// metrics` checks and a little more: syntax of every line, one HELP and one
// TYPE per family before its samples, families not interleaved, names and
// label names valid, label values properly escaped, no duplicate series,
// counters named *_total, histogram buckets cumulative with a final
// le="+Inf" equal to _count, and a final newline.
//
// Pure function; thread-safe.
#ifndef GITDISC_RECONCILER_PROMETHEUS_LINT_H_
#define GITDISC_RECONCILER_PROMETHEUS_LINT_H_

#include <string>
#include <string_view>
#include <vector>

namespace gitdisc::serve {

// Every problem found, as "line N: message"; empty when the text is valid.
std::vector<std::string> LintPrometheusText(std::string_view text);

}  // namespace gitdisc::serve

#endif  // GITDISC_RECONCILER_PROMETHEUS_LINT_H_
