// The syntax of names in specs and labels, and the "did you mean" helper for
// misspellings. Pure functions, thread-safe.
#ifndef GITDISC_SPECS_NAME_RULES_H_
#define GITDISC_SPECS_NAME_RULES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gitdisc::specs {

// A DNS label (RFC 1123): [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 characters.
// PayloadSet and payload names have this form.
bool IsDnsLabel(std::string_view name);

// An environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool IsEnvName(std::string_view name);

// A label key as Kubernetes has them: an optional DNS-subdomain prefix
// (≤253, lower-case) and '/', then a name of 1..63 characters
// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?. On failure *why says what is wrong.
bool IsLabelKey(std::string_view key, std::string* why = nullptr);

// A label value: empty, or 1..63 characters [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?.
bool IsLabelValue(std::string_view value, std::string* why = nullptr);

// Levenshtein distance; strings over 64 bytes count as far from everything.
int EditDistance(std::string_view a, std::string_view b);

// The candidate `word` most likely meant: equal ignoring case, or within a
// small edit distance (1 for short words, up to a third of the length).
std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// `text` in single quotes for messages, shortened past 60 bytes.
std::string Quoted(std::string_view text);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_NAME_RULES_H_
