#include "specs/name_rules.h"

#include <algorithm>
#include <cctype>

namespace gitdisc::specs {
namespace {

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alnum(char c) { return LowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? up to 63.
bool QualifiedName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!Alnum(s.front()) || !Alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return Alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool DnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsDnsLabel(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!LowerAlnum(name.front()) || !LowerAlnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return LowerAlnum(c) || c == '-'; });
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return Alnum(c) || c == '_'; });
}

bool IsLabelKey(std::string_view key, std::string* why) {
  auto fail = [&](const char* msg) {
    if (why) *why = msg;
    return false;
  };
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (!DnsSubdomain(key.substr(0, slash))) {
      return fail(
          "the prefix before '/' must be a lower-case DNS subdomain of at most 253 characters");
    }
    name = key.substr(slash + 1);
  }
  if (name.empty()) return fail("the name part is empty");
  if (name.size() > 63) return fail("the name part is longer than 63 characters");
  if (!QualifiedName(name)) {
    return fail(
        "the name part must be letters, digits, '-', '_' or '.', starting and ending with a "
        "letter or digit");
  }
  return true;
}

bool IsLabelValue(std::string_view value, std::string* why) {
  if (value.empty()) return true;
  if (value.size() > 63) {
    if (why) *why = "it is longer than 63 characters";
    return false;
  }
  if (!QualifiedName(value)) {
    if (why) {
      *why =
          "it must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
    }
    return false;
  }
  return true;
}

int EditDistance(std::string_view a, std::string_view b) {
  constexpr int kFar = 1 << 20;
  if (a.size() > 64 || b.size() > 64) return kFar;
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> Suggest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  std::string lower_word(word);
  std::transform(lower_word.begin(), lower_word.end(), lower_word.begin(), Lower);
  std::optional<std::string> best;
  int best_distance = 0;
  for (const std::string& c : candidates) {
    std::string lower_c = c;
    std::transform(lower_c.begin(), lower_c.end(), lower_c.begin(), Lower);
    int d = lower_c == lower_word ? 0 : EditDistance(word, c);
    int allowed = std::max<int>(1, static_cast<int>(std::max(word.size(), c.size()) / 3));
    if (d <= allowed && (!best || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return "'" + std::string(text) + "'";
  size_t cut = kMax;
  // Do not cut a UTF-8 sequence in half.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "…'";
}

}  // namespace gitdisc::specs
