#include "reconciler/prometheus_lint.h"

#include <cstdlib>
#include <map>
#include <set>

namespace gitdisc::serve {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (allow_colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool ValidName(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    if (!IsNameChar(n[i], i == 0, allow_colon)) return false;
  }
  return true;
}

bool ParseValue(std::string_view s, double* out) {
  if (s == "+Inf" || s == "Inf") {
    *out = 1e308 * 10;
    return true;
  }
  if (s == "-Inf") {
    *out = -1e308 * 10;
    return true;
  }
  if (s == "NaN") {
    *out = 0;
    return true;
  }
  if (s.empty()) return false;
  std::string tmp(s);
  char* end = nullptr;
  *out = std::strtod(tmp.c_str(), &end);
  return end && *end == '\0' && tmp.find_first_of("xXpP") == std::string::npos;
}

struct Family {
  std::string type;
  bool has_help = false;
  bool has_samples = false;
  bool closed = false;  // another family's lines came after it
};

struct HistogramSeries {
  std::vector<std::pair<double, double>> buckets;  // le, cumulative count
  bool has_inf = false;
  double inf_count = 0;
  bool has_count = false;
  double count = 0;
  int line = 0;
};

}  // namespace

std::vector<std::string> LintPrometheusText(std::string_view text) {
  std::vector<std::string> problems;
  auto report = [&](int line, const std::string& msg) {
    problems.push_back("line " + std::to_string(line) + ": " + msg);
  };
  if (!text.empty() && text.back() != '\n') report(0, "text does not end with a newline");

  std::map<std::string, Family> families;
  std::string current;  // family of the previous line
  std::set<std::string> series_seen;
  std::map<std::string, HistogramSeries> histograms;  // family + labels without le

  auto enter = [&](const std::string& family, int line) {
    if (family == current) return;
    if (!current.empty()) families[current].closed = true;
    if (families.count(family) && families[family].closed) {
      report(line, "lines of family " + family + " are not contiguous");
    }
    current = family;
  };

  // Which family a sample name belongs to: histograms own _bucket/_sum/_count.
  auto family_of = [&](const std::string& name, std::string* suffix) -> std::string {
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      std::string sf = s;
      if (name.size() > sf.size() && name.compare(name.size() - sf.size(), sf.size(), sf) == 0) {
        std::string base = name.substr(0, name.size() - sf.size());
        auto it = families.find(base);
        if (it != families.end() && it->second.type == "histogram") {
          *suffix = sf;
          return base;
        }
      }
    }
    suffix->clear();
    return name;
  };

  size_t pos = 0;
  int lineno = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++lineno;
    if (line.empty()) {
      report(lineno, "empty line");
      continue;
    }
    if (line[0] == '#') {
      // "# HELP name text" / "# TYPE name type"; other comments are allowed.
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        bool help = line[2] == 'H';
        std::string rest = line.substr(7);
        size_t sp = rest.find(' ');
        std::string name = rest.substr(0, sp);
        std::string arg = sp == std::string::npos ? "" : rest.substr(sp + 1);
        if (!ValidName(name, true)) {
          report(lineno, "invalid metric name '" + name + "'");
          continue;
        }
        enter(name, lineno);
        Family& f = families[name];
        if (help) {
          if (f.has_help) report(lineno, "second HELP for " + name);
          f.has_help = true;
          for (size_t i = 0; i < arg.size(); ++i) {
            if (arg[i] == '\\' &&
                (i + 1 >= arg.size() || (arg[i + 1] != '\\' && arg[i + 1] != 'n'))) {
              report(lineno, "bad escape in HELP of " + name);
              break;
            }
            if (arg[i] == '\\') ++i;
          }
        } else {
          if (!f.type.empty()) report(lineno, "second TYPE for " + name);
          if (f.has_samples) report(lineno, "TYPE after samples of " + name);
          if (arg != "counter" && arg != "gauge" && arg != "histogram" && arg != "summary" &&
              arg != "untyped") {
            report(lineno, "unknown type '" + arg + "'");
          }
          f.type = arg;
          if (arg == "counter" && (name.size() < 6 || name.substr(name.size() - 6) != "_total")) {
            report(lineno, "counter " + name + " should have the suffix _total");
          }
        }
      }
      continue;
    }

    // Sample: name[{labels}] value [timestamp]
    size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0, true)) ++i;
    std::string name = line.substr(0, i);
    if (!ValidName(name, true)) {
      report(lineno, "invalid sample name");
      continue;
    }
    std::vector<std::pair<std::string, std::string>> labels;
    bool bad = false;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t start = i;
        while (i < line.size() && IsNameChar(line[i], i == start, false)) ++i;
        std::string lname = line.substr(start, i - start);
        if (lname.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
          bad = true;
          break;
        }
        i += 2;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) break;
            char e = line[i++];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              bad = true;
              break;
            }
          } else {
            value += c;
          }
        }
        if (!closed || bad) {
          bad = true;
          break;
        }
        for (const auto& [n, v] : labels) {
          if (n == lname) report(lineno, "duplicate label " + lname);
        }
        if (lname.rfind("__", 0) == 0) report(lineno, "reserved label name " + lname);
        labels.emplace_back(lname, value);
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (bad || i >= line.size() || line[i] != '}') {
        report(lineno, "malformed label set");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      report(lineno, "expected a space before the value");
      continue;
    }
    std::string rest = line.substr(i + 1);
    size_t sp = rest.find(' ');
    std::string value_text = rest.substr(0, sp);
    double value = 0;
    if (!ParseValue(value_text, &value)) {
      report(lineno, "invalid value '" + value_text + "'");
      continue;
    }
    if (sp != std::string::npos) {
      std::string ts = rest.substr(sp + 1);
      if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string::npos) {
        report(lineno, "invalid timestamp");
      }
    }

    std::string suffix;
    std::string family = family_of(name, &suffix);
    if (!families.count(family) || families[family].type.empty()) {
      report(lineno, "sample of " + family + " without a TYPE line");
    }
    enter(family, lineno);
    Family& f = families[family];
    f.has_samples = true;

    std::string key = name;
    std::string key_without_le = family;
    std::string le;
    for (const auto& [n, v] : labels) {
      key += "|" + n + "=" + v;
      if (n == "le") {
        le = v;
      } else {
        key_without_le += "|" + n + "=" + v;
      }
    }
    if (!series_seen.insert(key).second) report(lineno, "duplicate series " + name);

    if (f.type == "counter" && value < 0) report(lineno, "negative counter " + name);
    if (f.type == "histogram") {
      HistogramSeries& h = histograms[key_without_le];
      h.line = lineno;
      if (suffix.empty()) {
        report(lineno, "histogram sample without _bucket/_sum/_count suffix");
      } else if (suffix == "_bucket") {
        double bound = 0;
        if (le.empty() || !ParseValue(le, &bound)) {
          report(lineno, "bucket without a valid le label");
        } else if (le == "+Inf") {
          h.has_inf = true;
          h.inf_count = value;
        } else {
          if (!h.buckets.empty() &&
              (bound <= h.buckets.back().first || value < h.buckets.back().second)) {
            report(lineno, "buckets of " + family + " are not increasing/cumulative");
          }
          h.buckets.emplace_back(bound, value);
        }
      } else if (suffix == "_count") {
        h.has_count = true;
        h.count = value;
      }
    } else if (!le.empty() && f.type != "histogram") {
      // 'le' is allowed on other types but unusual; nothing to check.
    }
  }

  for (const auto& [name, f] : families) {
    if (f.type.empty()) report(0, "family " + name + " has no TYPE");
    if (!f.has_help) report(0, "family " + name + " has no HELP");
  }
  for (const auto& [key, h] : histograms) {
    if (!h.has_inf) report(h.line, "histogram " + key + " has no le=\"+Inf\" bucket");
    if (!h.has_count) report(h.line, "histogram " + key + " has no _count");
    if (h.has_inf && h.has_count && h.inf_count != h.count) {
      report(h.line, "histogram " + key + ": +Inf bucket differs from _count");
    }
    if (h.has_inf && !h.buckets.empty() && h.inf_count < h.buckets.back().second) {
      report(h.line, "histogram " + key + ": +Inf bucket below the last bucket");
    }
  }
  return problems;
}

}  // namespace gitdisc::serve
