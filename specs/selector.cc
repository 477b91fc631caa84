#include "specs/selector.h"

#include <fnmatch.h>

#include <algorithm>

namespace gitdisc::specs {

bool GlobMatches(std::string_view pattern, std::string_view name) {
  // fnmatch wants C strings; names with a NUL cannot match anything sensible.
  if (pattern.find('\0') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return false;
  }
  return ::fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), 0) == 0;
}

bool Matches(const Selector& selector, std::string_view vm_name, const Labels& labels) {
  if (selector.match_labels.empty() && selector.match_expressions.empty() &&
      selector.names.empty()) {
    return false;
  }
  for (const auto& [key, value] : selector.match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const SelectorRequirement& req : selector.match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool listed =
        has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    switch (req.op) {
      case SelectorOp::kIn:
        if (!listed) return false;
        break;
      case SelectorOp::kNotIn:
        if (listed) return false;
        break;
      case SelectorOp::kExists:
        if (!has) return false;
        break;
      case SelectorOp::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  if (!selector.names.empty() &&
      std::none_of(selector.names.begin(), selector.names.end(),
                   [&](const std::string& glob) { return GlobMatches(glob, vm_name); })) {
    return false;
  }
  return true;
}

}  // namespace gitdisc::specs
