// Selector matching: does a PayloadSet's selector pick a VM, given the VM's
// name and labels (DESIGN.md §3). Pure functions, thread-safe.
//
// Semantics, as Kubernetes label selectors plus name globs: every criterion
// given must hold —
//   matchLabels {k: v}   the VM has label k with value v;
//   In [vs]              the VM has label k and its value is one of vs;
//   NotIn [vs]           the VM lacks label k, or its value is none of vs;
//   Exists               the VM has label k (any value);
//   DoesNotExist         the VM lacks label k;
//   names [globs]        the VM's name matches at least one shell glob
//                        (fnmatch: '*', '?', '[a-z]'; "*" matches every VM).
// A selector with no criteria at all matches nothing (the parser refuses it).
#ifndef GITDISC_SPECS_SELECTOR_H_
#define GITDISC_SPECS_SELECTOR_H_

#include <map>
#include <string>
#include <string_view>

#include "specs/spec_types.h"

namespace gitdisc::specs {

using Labels = std::map<std::string, std::string>;

bool Matches(const Selector& selector, std::string_view vm_name, const Labels& labels);

// A shell glob match of one name (no special meaning for '/' or '.').
bool GlobMatches(std::string_view pattern, std::string_view name);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SELECTOR_H_
