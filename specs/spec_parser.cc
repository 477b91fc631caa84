#include "specs/spec_parser.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "base/ascii.h"
#include "base/sha256.h"
#include "base/url_text.h"
#include "specs/duration.h"
#include "specs/name_rules.h"
#include "specs/repo_path.h"

namespace gitdisc::specs {
namespace {

constexpr long long kMaxCount = 1000000;

const char* KindName(const YamlNode& n) {
  switch (n.kind) {
    case YamlNode::Kind::kNull:
      return "nothing";
    case YamlNode::Kind::kScalar:
      return "a scalar";
    case YamlNode::Kind::kSequence:
      return "a list";
    case YamlNode::Kind::kMap:
      return "a mapping";
    case YamlNode::Kind::kAlias:
      return "an alias";
  }
  return "?";
}

std::string Pos(const YamlNode& n) {
  return std::to_string(n.line) + ":" + std::to_string(n.column);
}

// The keys of a mapping with their value nodes, in order.
struct Field {
  std::string key;
  int key_node;
  int value_node;
};

// Validates one gitdisc/v1 document. Diagnostics go to the shared list.
class DocChecker {
 public:
  DocChecker(const YamlStream& ys, std::string_view file, std::vector<Diagnostic>* diags)
      : ys_(ys), file_(file), diags_(diags) {}

  int errors() const { return errors_; }
  std::optional<std::pair<std::string, SourcePos>> declared_name;
  std::vector<std::string> payload_paths;

  std::optional<PayloadSet> Check(const YamlNode& root) {
    auto fields = Fields(root, "a PayloadSet", {"apiVersion", "kind", "metadata", "spec"});
    PayloadSet set;
    set.pos = At(root);
    if (auto* kind = Require(fields, root, "kind", "a PayloadSet")) {
      if (auto k = String(*kind, "kind"); k && *k != kKindPayloadSet) {
        Error(*kind, "kind " + Quoted(*k) + " is not known; gitdisc/v1 has only PayloadSet" +
                         Hint(*k, {kKindPayloadSet}));
      }
    }
    if (auto* meta = Require(fields, root, "metadata", "a PayloadSet")) {
      if (ExpectMap(*meta, "metadata")) {
        auto mf = Fields(*meta, "metadata", {"name"});
        if (auto* name = Require(mf, *meta, "name", "metadata")) {
          if (auto n = String(*name, "metadata.name")) {
            set.name = *n;
            set.name_pos = At(*name);
            if (CheckDnsName(*name, *n, "PayloadSet name")) declared_name = {*n, set.name_pos};
          }
        }
      }
    }
    if (auto* spec = Require(fields, root, "spec", "a PayloadSet")) {
      if (ExpectMap(*spec, "spec")) CheckSpec(*spec, &set);
    }
    if (errors_ > 0) return std::nullopt;
    return set;
  }

 private:
  const YamlNode& N(int i) const { return ys_.node(i); }
  SourcePos At(const YamlNode& n) const { return SourcePos{std::string(file_), n.line, n.column}; }

  void Error(const YamlNode& at, std::string message) {
    ++errors_;
    diags_->push_back(Diagnostic{At(at), Diagnostic::Severity::kError, std::move(message)});
  }

  static std::string Hint(std::string_view word, const std::vector<std::string>& candidates) {
    auto s = Suggest(word, candidates);
    return s ? " (did you mean '" + *s + "'?)" : "";
  }

  bool NotAlias(const YamlNode& n) {
    if (n.kind != YamlNode::Kind::kAlias) return true;
    Error(n, "YAML aliases are not supported in gitdisc specs; write the value out");
    return false;
  }

  bool ExpectMap(const YamlNode& n, std::string_view what) {
    if (!NotAlias(n)) return false;
    if (n.is_map()) return true;
    Error(n, std::string(what) + " must be a mapping, not " + KindName(n));
    return false;
  }
  bool ExpectSeq(const YamlNode& n, std::string_view what) {
    if (!NotAlias(n)) return false;
    if (n.is_seq()) return true;
    Error(n, std::string(what) + " must be a list, not " + KindName(n));
    return false;
  }

  // Keys and values of a mapping; reports keys that are not scalars and keys
  // given twice (the first one wins).
  std::vector<Field> Entries(const YamlNode& map, std::string_view what) {
    std::vector<Field> out;
    std::map<std::string, int> seen;
    for (size_t i = 0; i + 1 < map.children.size(); i += 2) {
      const YamlNode& k = N(map.children[i]);
      if (!NotAlias(k)) continue;
      if (!k.is_scalar()) {
        Error(k,
              std::string("keys in ") + std::string(what) + " must be strings, not " + KindName(k));
        continue;
      }
      if (auto [it, fresh] = seen.emplace(k.value, map.children[i]); !fresh) {
        Error(k, "key " + Quoted(k.value) + " is given twice in " + std::string(what) +
                     " (first at " + Pos(N(it->second)) + ")");
        continue;
      }
      out.push_back(Field{k.value, map.children[i], map.children[i + 1]});
    }
    return out;
  }

  // Entries restricted to `allowed`; unknown keys are errors with a suggestion.
  std::map<std::string, const YamlNode*> Fields(const YamlNode& map, std::string_view what,
                                                const std::vector<std::string>& allowed) {
    std::map<std::string, const YamlNode*> out;
    for (const Field& f : Entries(map, what)) {
      if (std::find(allowed.begin(), allowed.end(), f.key) == allowed.end()) {
        Error(N(f.key_node),
              "unknown key " + Quoted(f.key) + " in " + std::string(what) + Hint(f.key, allowed));
        continue;
      }
      out[f.key] = &N(f.value_node);
    }
    return out;
  }

  const YamlNode* Require(const std::map<std::string, const YamlNode*>& fields, const YamlNode& map,
                          const std::string& key, std::string_view what) {
    auto it = fields.find(key);
    if (it != fields.end()) return it->second;
    Error(map, std::string(what) + " is missing required key '" + key + "'");
    return nullptr;
  }
  static const YamlNode* Optional(const std::map<std::string, const YamlNode*>& fields,
                                  const std::string& key) {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : it->second;
  }

  // Any non-null scalar; its text is taken as written.
  std::optional<std::string> String(const YamlNode& n, std::string_view what) {
    if (!NotAlias(n)) return std::nullopt;
    if (n.is_scalar()) return n.value;
    if (n.is_null()) {
      Error(n, std::string(what) + " has no value");
    } else {
      Error(n, std::string(what) + " must be a string, not " + KindName(n));
    }
    return std::nullopt;
  }
  std::optional<std::string> NonEmptyString(const YamlNode& n, std::string_view what) {
    auto s = String(n, what);
    if (s && s->empty()) {
      Error(n, std::string(what) + " must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<long long> Int(const YamlNode& n, std::string_view what, long long min,
                               long long max) {
    if (!NotAlias(n)) return std::nullopt;
    std::string want = std::string(what) + " must be a whole number from " + std::to_string(min) +
                       " to " + std::to_string(max);
    if (!n.is_scalar() || !n.plain) {
      Error(n, want + ", not " + (n.is_scalar() ? "a quoted string" : KindName(n)));
      return std::nullopt;
    }
    std::string_view v = n.value;
    bool negative = !v.empty() && (v[0] == '-' || v[0] == '+');
    std::string_view digits = negative ? v.substr(1) : v;
    bool numeric =
        !digits.empty() && digits.size() <= 12 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!numeric) {
      Error(n, want + ", not " + Quoted(n.value));
      return std::nullopt;
    }
    long long x = std::stoll(std::string(digits));
    if (v[0] == '-') x = -x;
    if (x < min || x > max) {
      Error(n, want + ", not " + std::to_string(x));
      return std::nullopt;
    }
    return x;
  }

  std::optional<bool> Bool(const YamlNode& n, std::string_view what) {
    if (!NotAlias(n)) return std::nullopt;
    if (n.is_scalar() && n.plain) {
      if (n.value == "true" || n.value == "True" || n.value == "TRUE") return true;
      if (n.value == "false" || n.value == "False" || n.value == "FALSE") return false;
    }
    Error(n, std::string(what) + " must be true or false, not " +
                 (n.is_scalar() ? Quoted(n.value) : std::string(KindName(n))));
    return std::nullopt;
  }

  bool CheckDnsName(const YamlNode& at, const std::string& name, std::string_view what) {
    if (IsDnsLabel(name)) return true;
    std::string why = name.size() > 63 ? "it is longer than 63 characters"
                                       : "use lower-case letters, digits and '-', starting and "
                                         "ending with a letter or digit";
    Error(at, std::string(what) + " " + Quoted(name) + " is not a valid name: " + why);
    return false;
  }

  std::optional<std::vector<std::string>> StringList(
      const YamlNode& n, std::string_view what, std::vector<const YamlNode*>* nodes = nullptr) {
    if (!ExpectSeq(n, what)) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (size_t i = 0; i < n.children.size(); ++i) {
      const YamlNode& item = N(n.children[i]);
      auto s = NonEmptyString(item, std::string(what) + " entry " + std::to_string(i + 1));
      if (!s) {
        ok = false;
        continue;
      }
      out.push_back(*s);
      if (nodes) nodes->push_back(&item);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void CheckSpec(const YamlNode& spec, PayloadSet* set) {
    auto f = Fields(spec, "spec", {"selector", "payloads", "rollout", "suspend"});
    if (auto* sel = Require(f, spec, "selector", "spec")) {
      if (ExpectMap(*sel, "selector")) CheckSelector(*sel, &set->selector);
    }
    if (auto* payloads = Require(f, spec, "payloads", "spec")) {
      if (ExpectSeq(*payloads, "payloads")) CheckPayloads(*payloads, set);
    }
    if (auto* rollout = Optional(f, "rollout")) {
      if (ExpectMap(*rollout, "rollout")) CheckRollout(*rollout, &set->rollout);
    }
    if (auto* suspend = Optional(f, "suspend")) {
      if (auto b = Bool(*suspend, "suspend")) set->suspend = *b;
    }
  }

  void CheckSelector(const YamlNode& sel, Selector* out) {
    errors_at_selector_ = errors_;
    auto f = Fields(sel, "selector", {"matchLabels", "matchExpressions", "names"});
    // A misspelled criterion is the one problem; "no criteria" would repeat it.
    bool misspelled = errors_ > errors_at_selector_;
    if (auto* labels = Optional(f, "matchLabels")) {
      if (ExpectMap(*labels, "matchLabels")) {
        for (const Field& e : Entries(*labels, "matchLabels")) {
          std::string why;
          if (!IsLabelKey(e.key, &why)) {
            Error(N(e.key_node), "label key " + Quoted(e.key) + " is not valid: " + why);
            continue;
          }
          auto v = String(N(e.value_node), "label " + Quoted(e.key));
          if (!v) continue;
          if (!IsLabelValue(*v, &why)) {
            Error(N(e.value_node), "label value " + Quoted(*v) + " is not valid: " + why);
            continue;
          }
          out->match_labels[e.key] = *v;
        }
      }
    }
    if (auto* exprs = Optional(f, "matchExpressions")) {
      if (ExpectSeq(*exprs, "matchExpressions")) {
        for (int child : exprs->children) CheckExpression(N(child), out);
      }
    }
    if (auto* names = Optional(f, "names")) {
      if (auto list = StringList(*names, "names")) out->names = *list;
    }
    if (misspelled) return;
    if (out->match_labels.empty() && out->match_expressions.empty() && out->names.empty() &&
        !f.count("matchLabels") && !f.count("matchExpressions") && !f.count("names")) {
      Error(sel,
            "selector needs at least one of matchLabels, matchExpressions or names "
            "(names: [\"*\"] selects every VM)");
    } else if (f.count("matchLabels") + f.count("matchExpressions") + f.count("names") > 0 &&
               out->match_labels.empty() && out->match_expressions.empty() && out->names.empty() &&
               errors_ == errors_at_selector_) {
      Error(sel,
            "selector is empty: give at least one label, expression or name "
            "(names: [\"*\"] selects every VM)");
    }
  }

  void CheckExpression(const YamlNode& n, Selector* out) {
    if (!ExpectMap(n, "a matchExpressions entry")) return;
    auto f = Fields(n, "a matchExpressions entry", {"key", "operator", "values"});
    SelectorRequirement req;
    bool ok = true;
    if (auto* key = Require(f, n, "key", "a matchExpressions entry")) {
      if (auto k = String(*key, "key")) {
        std::string why;
        if (!IsLabelKey(*k, &why)) {
          Error(*key, "label key " + Quoted(*k) + " is not valid: " + why);
          ok = false;
        }
        req.key = *k;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    const std::vector<std::string> ops = {"In", "NotIn", "Exists", "DoesNotExist"};
    std::optional<SelectorOp> op;
    if (auto* o = Require(f, n, "operator", "a matchExpressions entry")) {
      if (auto s = String(*o, "operator")) {
        if (*s == "In")
          op = SelectorOp::kIn;
        else if (*s == "NotIn")
          op = SelectorOp::kNotIn;
        else if (*s == "Exists")
          op = SelectorOp::kExists;
        else if (*s == "DoesNotExist")
          op = SelectorOp::kDoesNotExist;
        else
          Error(*o, "operator " + Quoted(*s) + " is not one of In, NotIn, Exists, DoesNotExist" +
                        Hint(*s, ops));
      }
    }
    if (!op) ok = false;
    const YamlNode* values = Optional(f, "values");
    if (op && (*op == SelectorOp::kIn || *op == SelectorOp::kNotIn)) {
      if (!values) {
        Error(n,
              std::string("operator ") + SelectorOpName(*op) + " needs a non-empty 'values' list");
        ok = false;
      } else if (auto list = StringList(*values, "values")) {
        if (list->empty()) {
          Error(*values,
                std::string("operator ") + SelectorOpName(*op) + " needs at least one value");
          ok = false;
        }
        for (const std::string& v : *list) {
          std::string why;
          if (!IsLabelValue(v, &why)) {
            Error(*values, "label value " + Quoted(v) + " is not valid: " + why);
            ok = false;
          }
        }
        req.values = *list;
      } else {
        ok = false;
      }
    } else if (op && values) {
      if (!(values->is_seq() && values->children.empty())) {
        Error(*values, std::string("operator ") + SelectorOpName(*op) + " takes no values");
        ok = false;
      }
    }
    if (ok) {
      req.op = *op;
      out->match_expressions.push_back(std::move(req));
    }
  }

  void CheckRollout(const YamlNode& n, Rollout* out) {
    auto f = Fields(n, "rollout", {"maxParallel", "maxFailures", "canary"});
    if (auto* mp = Optional(f, "maxParallel")) {
      if (NotAlias(*mp)) {
        const std::string want =
            "maxParallel must be a whole number of at least 1 or a percentage from 1% to 100%";
        if (mp->is_scalar() && !mp->value.empty() && mp->value.back() == '%') {
          std::string_view digits = std::string_view(mp->value).substr(0, mp->value.size() - 1);
          bool numeric = !digits.empty() && digits.size() <= 3 &&
                         std::all_of(digits.begin(), digits.end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
          int v = numeric ? std::stoi(std::string(digits)) : -1;
          if (v < 1 || v > 100) {
            Error(*mp, want + ", not " + Quoted(mp->value));
          } else {
            out->max_parallel = CountOrPercent{v, true};
          }
        } else if (mp->is_scalar() && mp->plain) {
          if (auto v = Int(*mp, "maxParallel", 1, kMaxCount)) {
            out->max_parallel = CountOrPercent{static_cast<int>(*v), false};
          }
        } else {
          Error(*mp, want + ", not " +
                         (mp->is_scalar() ? Quoted(mp->value) : std::string(KindName(*mp))));
        }
      }
    }
    if (auto* mf = Optional(f, "maxFailures")) {
      if (auto v = Int(*mf, "maxFailures", 0, kMaxCount)) out->max_failures = static_cast<int>(*v);
    }
    if (auto* c = Optional(f, "canary")) {
      if (auto v = Int(*c, "canary", 0, kMaxCount)) out->canary = static_cast<int>(*v);
    }
  }

  struct AfterRef {
    std::string name;
    const YamlNode* node;
  };

  void CheckPayloads(const YamlNode& list, PayloadSet* set) {
    if (list.children.empty()) {
      Error(list, "payloads must list at least one payload");
      return;
    }
    // Every payload name given, valid payload or not, so `after` checks do
    // not pile up behind another error.
    std::map<std::string, const YamlNode*> names;
    std::vector<std::vector<AfterRef>> afters;
    std::vector<bool> payload_ok;
    std::vector<Payload> payloads;
    for (int child : list.children) {
      const YamlNode& n = N(child);
      int before = errors_;
      Payload p;
      std::vector<AfterRef> after;
      std::optional<std::string> name = CheckPayload(n, &p, &after);
      if (name) {
        auto [it, fresh] = names.emplace(*name, &n);
        if (!fresh) {
          Error(n, "payload " + Quoted(*name) + " is defined twice in this PayloadSet (first at " +
                       Pos(*it->second) + ")");
        }
      }
      payloads.push_back(std::move(p));
      afters.push_back(std::move(after));
      payload_ok.push_back(errors_ == before);
    }
    // `after`: names in this set, not itself, no repeats.
    for (size_t i = 0; i < payloads.size(); ++i) {
      std::set<std::string> seen;
      for (const AfterRef& a : afters[i]) {
        if (a.name == payloads[i].name) {
          Error(*a.node, "payload " + Quoted(a.name) + " cannot come after itself");
        } else if (!names.count(a.name)) {
          std::vector<std::string> all;
          for (const auto& [k, v] : names) all.push_back(k);
          Error(*a.node,
                "after: no payload " + Quoted(a.name) + " in this PayloadSet" + Hint(a.name, all));
        } else if (!seen.insert(a.name).second) {
          Error(*a.node, "after: " + Quoted(a.name) + " is listed twice");
        }
      }
    }
    CheckCycles(payloads, afters);
    set->payloads = std::move(payloads);
  }

  // Reports one cycle through `after`, if there is any, at the first payload on it.
  void CheckCycles(const std::vector<Payload>& payloads,
                   const std::vector<std::vector<AfterRef>>& afters) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < payloads.size(); ++i) index.emplace(payloads[i].name, i);
    // Iterative DFS with colours: 0 new, 1 on the stack, 2 done.
    std::vector<int> colour(payloads.size(), 0);
    for (size_t start = 0; start < payloads.size(); ++start) {
      if (colour[start] != 0) continue;
      std::vector<std::pair<size_t, size_t>> stack = {{start, 0}};
      colour[start] = 1;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < afters[node].size()) {
          const AfterRef& ref = afters[node][next++];
          auto it = index.find(ref.name);
          if (it == index.end() || it->second == node) continue;
          size_t to = it->second;
          if (colour[to] == 1) {
            std::string path;
            bool on = false;
            for (const auto& [n, unused] : stack) {
              if (n == to) on = true;
              if (on) path += payloads[n].name + " → ";
            }
            path += payloads[to].name;
            Error(*ref.node, "payloads form a cycle through 'after': " + path);
            return;
          }
          if (colour[to] == 0) {
            colour[to] = 1;
            stack.push_back({to, 0});
          }
        } else {
          colour[node] = 2;
          stack.pop_back();
        }
      }
    }
  }

  // Fills *p; returns the payload's name when it has a well-formed one.
  std::optional<std::string> CheckPayload(const YamlNode& n, Payload* p,
                                          std::vector<AfterRef>* after) {
    if (!ExpectMap(n, "a payload")) return std::nullopt;
    p->pos = At(n);
    auto f = Fields(
        n, "a payload",
        {"name", "version", "path", "file", "url", "unpack", "run", "timeout", "env", "after",
         "reboot"});
    std::optional<std::string> result;
    std::string what = "a payload";
    if (auto* name = Require(f, n, "name", "a payload")) {
      if (auto s = String(*name, "name")) {
        p->name = *s;
        if (CheckDnsName(*name, *s, "payload name")) result = *s;
        what = "payload " + Quoted(*s);
      }
    }
    if (auto* version = Require(f, n, "version", what)) {
      if (auto s = NonEmptyString(*version, "version")) {
        if (s->size() > 128) {
          Error(*version, "version is longer than 128 characters");
        } else if (s->find_first_of("\t\r\n") != std::string::npos) {
          Error(*version, "version must be one line");
        }
        p->version = *s;
      }
    }
    CheckSource(n, f, what, p);
    if (auto* run = Require(f, n, "run", what)) {
      if (auto list = StringList(*run, "run")) {
        if (list->empty()) Error(*run, "run must name a program: a list of at least one string");
        p->run = *list;
      }
    }
    if (auto* t = Optional(f, "timeout")) {
      if (auto s = String(*t, "timeout")) {
        auto d = ParseDuration(*s);
        if (d.ok()) {
          p->timeout = *d;
        } else {
          Error(*t, "timeout " + d.status().message());
        }
      }
    }
    if (auto* env = Optional(f, "env")) {
      if (ExpectMap(*env, "env")) {
        for (const Field& e : Entries(*env, "env")) {
          if (!IsEnvName(e.key)) {
            Error(N(e.key_node), "env name " + Quoted(e.key) +
                                     " is not valid: use letters, digits and '_', not starting "
                                     "with a digit");
            continue;
          }
          if (e.key.rfind("GITDISC_", 0) == 0) {
            Error(N(e.key_node), "env name " + Quoted(e.key) +
                                     " is reserved: the agent sets GITDISC_* variables itself");
            continue;
          }
          if (auto v = String(N(e.value_node), "env " + Quoted(e.key))) p->env[e.key] = *v;
        }
      }
    }
    if (auto* a = Optional(f, "after")) {
      std::vector<const YamlNode*> nodes;
      if (auto list = StringList(*a, "after", &nodes)) {
        p->after = *list;
        for (size_t i = 0; i < list->size(); ++i) after->push_back(AfterRef{(*list)[i], nodes[i]});
      }
    }
    if (auto* r = Optional(f, "reboot")) {
      if (auto s = String(*r, "reboot")) {
        if (*s == "never")
          p->reboot = RebootPolicy::kNever;
        else if (*s == "ifRequested")
          p->reboot = RebootPolicy::kIfRequested;
        else if (*s == "always")
          p->reboot = RebootPolicy::kAlways;
        else
          Error(*r, "reboot " + Quoted(*s) + " is not one of never, ifRequested, always" +
                        Hint(*s, {"never", "ifRequested", "always"}));
      }
    }
    return result;
  }

  void CheckSource(const YamlNode& n, const std::map<std::string, const YamlNode*>& f,
                   const std::string& what, Payload* p) {
    std::vector<std::pair<std::string, const YamlNode*>> given;
    for (const char* k : {"path", "file", "url"}) {
      if (auto* v = Optional(f, k)) given.emplace_back(k, v);
    }
    // Report in file order: the extra source is the later one.
    std::sort(given.begin(), given.end(), [](const auto& a, const auto& b) {
      return std::pair(a.second->line, a.second->column) <
             std::pair(b.second->line, b.second->column);
    });
    if (given.empty()) {
      Error(n, what + " needs exactly one of path, file or url");
      return;
    }
    for (size_t i = 1; i < given.size(); ++i) {
      Error(*given[i].second, what + " has both " + given[0].first + " and " + given[i].first +
                                  "; give exactly one of path, file or url");
    }
    const auto& [kind, v] = given[0];
    p->source_pos = At(*v);
    if (kind == "path") {
      if (auto s = NonEmptyString(*v, "path")) {
        if (auto norm = CheckRelativePath(*v, *s)) {
          p->source = PathSource{*norm};
          payload_paths.push_back(*norm);
        }
      }
    } else if (kind == "file") {
      if (!ExpectMap(*v, "file")) return;
      auto ff = Fields(*v, "file", {"path", "sha256"});
      FileSource src;
      if (auto* path = Require(ff, *v, "path", "file")) {
        if (auto s = NonEmptyString(*path, "file path")) {
          if ((*s)[0] != '/') {
            Error(*path,
                  "file path " + Quoted(*s) + " must be absolute (a file on the gitdisc host)");
          } else if (auto norm = NormaliseRepoPath(s->substr(1));
                     !norm || *norm != s->substr(1) || norm->empty()) {
            bool dots = s->find("/..") != std::string::npos || s->find("/./") != std::string::npos;
            Error(*path, "file path " + Quoted(*s) + " is not normalised" +
                             (norm && !norm->empty() && !dots
                                  ? " (did you mean '/" + *norm + "'?)"
                                  : std::string(" (no '.', '..' or empty parts)")));
          }
          src.path = *s;
        }
      }
      if (auto* sha = Require(ff, *v, "sha256", "file")) src.sha256 = CheckSha(*sha);
      p->source = src;
    } else {
      if (!ExpectMap(*v, "url")) return;
      auto uf = Fields(*v, "url", {"url", "sha256"});
      UrlSource src;
      if (auto* url = Require(uf, *v, "url", "url")) {
        if (auto s = NonEmptyString(*url, "url")) {
          CheckUrl(*url, *s);
          src.url = *s;
        }
      }
      if (auto* sha = Require(uf, *v, "sha256", "url")) src.sha256 = CheckSha(*sha);
      p->source = src;
    }
    CheckUnpack(f, kind, p);
  }

  // `unpack: true|false` beside a file: or url: source (specs/unpacked_artifacts.h).
  void CheckUnpack(const std::map<std::string, const YamlNode*>& f, const std::string& kind,
                   Payload* p) {
    const YamlNode* u = Optional(f, "unpack");
    if (u == nullptr) return;
    if (kind == "path") {
      Error(*u, "unpack applies to file: and url: artifacts only; a path: payload is a folder "
                "already");
      return;
    }
    auto b = Bool(*u, "unpack");
    if (!b) return;
    if (auto* fs = std::get_if<FileSource>(&p->source)) fs->unpack = *b;
    if (auto* us = std::get_if<UrlSource>(&p->source)) us->unpack = *b;
  }

  std::optional<std::string> CheckRelativePath(const YamlNode& at, const std::string& s) {
    if (s[0] == '/') {
      Error(at,
            "path " + Quoted(s) +
                " must be relative to the spec folder, not absolute (use file: for host files)");
      return std::nullopt;
    }
    bool dotdot = s == ".." || s.rfind("../", 0) == 0 || s.find("/../") != std::string::npos ||
                  (s.size() >= 3 && s.compare(s.size() - 3, 3, "/..") == 0);
    if (dotdot) {
      Error(at, "path " + Quoted(s) + " may not contain '..'");
      return std::nullopt;
    }
    auto norm = NormaliseRepoPath(s);
    if (!norm || norm->empty()) {
      Error(at, "path " + Quoted(s) + " must name a folder below the spec folder");
      return std::nullopt;
    }
    if (*norm != s) {
      Error(at, "path " + Quoted(s) + " is not normalised (did you mean '" + *norm + "'?)");
      return std::nullopt;
    }
    return norm;
  }

  std::string CheckSha(const YamlNode& n) {
    auto s = String(n, "sha256");
    if (!s) return "";
    if (!IsSha256Hex(*s)) {
      Error(n, "sha256 must be 64 hex digits, not " + Quoted(*s) + " (" +
                   std::to_string(s->size()) + " characters)");
      return "";
    }
    return AsciiLower(*s);
  }

  void CheckUrl(const YamlNode& at, const std::string& url) {
    std::string lower = AsciiLower(url);
    size_t host_start = lower.rfind("https://", 0) == 0  ? 8
                        : lower.rfind("http://", 0) == 0 ? 7
                                                         : 0;
    if (host_start == 0) {
      Error(at, "url " + Quoted(url) + " must start with http:// or https://");
      return;
    }
    if (!UrlUserinfo(url).empty()) {
      // Not quoted as written: what precedes the host may be a token.
      Error(at, "url " + Quoted(RedactUrl(url)) +
                    " must not carry credentials before its host (a URL is shown in logs, "
                    "status and errors)");
      return;
    }
    if (url.find_first_of(" \t\r\n") != std::string::npos) {
      Error(at, "url " + Quoted(url) + " must not contain spaces");
      return;
    }
    size_t host_end = url.find_first_of("/?#", host_start);
    if (host_end == host_start || host_start == url.size()) {
      Error(at, "url " + Quoted(url) + " has no host");
    }
  }

  const YamlStream& ys_;
  std::string_view file_;
  std::vector<Diagnostic>* diags_;
  int errors_ = 0;
  int errors_at_selector_ = 0;
};

}  // namespace

int ParsedFile::error_count() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == Diagnostic::Severity::kError;
  }));
}

ParsedFile ParseSpecFile(std::string_view file, std::string_view content,
                         const YamlLimits& limits) {
  ParsedFile out;
  YamlStream ys = ReadYamlStream(file, content, limits);
  if (ys.error) {
    out.yaml_ok = false;
    out.diagnostics.push_back(*ys.error);
  }
  for (size_t d = 0; d < ys.documents.size(); ++d) {
    const YamlDocument& doc = ys.documents[d];
    int index = static_cast<int>(d) + 1;
    auto ignore = [&](int line, int column, std::string reason) {
      out.ignored.push_back(
          IgnoredDocument{std::string(file), index, line, column, std::move(reason)});
    };
    if (doc.root < 0 || ys.node(doc.root).is_null()) {
      ignore(doc.line, doc.column, "empty document");
      continue;
    }
    const YamlNode& root = ys.node(doc.root);
    if (!root.is_map()) {
      ignore(root.line, root.column, "not a mapping");
      continue;
    }
    const YamlNode* api = nullptr;
    const YamlNode* kind = nullptr;
    for (size_t i = 0; i + 1 < root.children.size(); i += 2) {
      const YamlNode& k = ys.node(root.children[i]);
      if (!k.is_scalar()) continue;
      if (k.value == "apiVersion" && !api) api = &ys.node(root.children[i + 1]);
      if (k.value == "kind" && !kind) kind = &ys.node(root.children[i + 1]);
    }
    if (!api || !api->is_scalar()) {
      ignore(root.line, root.column, "no apiVersion");
      continue;
    }
    if (api->value != kApiVersion) {
      if (AsciiLower(api->value).rfind("gitdisc/", 0) == 0) {
        out.diagnostics.push_back(Diagnostic{
            SourcePos{std::string(file), api->line, api->column}, Diagnostic::Severity::kError,
            "apiVersion " + Quoted(api->value) + " is not supported: this gitdisc reads " +
                kApiVersion});
        continue;
      }
      ignore(root.line, root.column, "apiVersion " + Quoted(api->value) + " is not " + kApiVersion);
      if ((kind && kind->is_scalar() && kind->value == kKindPayloadSet) ||
          Suggest(api->value, {kApiVersion})) {
        out.diagnostics.push_back(Diagnostic{
            SourcePos{std::string(file), api->line, api->column}, Diagnostic::Severity::kWarning,
            "document looks like a gitdisc spec but has apiVersion " + Quoted(api->value) +
                ", so it is ignored (did you mean '" + kApiVersion + "'?)"});
      }
      continue;
    }
    DocChecker checker(ys, file, &out.diagnostics);
    std::optional<PayloadSet> set = checker.Check(root);
    if (checker.declared_name) out.declared_names.push_back(*checker.declared_name);
    out.payload_paths.insert(out.payload_paths.end(), checker.payload_paths.begin(),
                             checker.payload_paths.end());
    if (set) out.sets.push_back(std::move(*set));
  }
  std::stable_sort(
      out.diagnostics.begin(), out.diagnostics.end(), [](const auto& a, const auto& b) {
        return std::pair(a.pos.line, a.pos.column) < std::pair(b.pos.line, b.pos.column);
      });
  if (out.diagnostics.size() > static_cast<size_t>(kMaxDiagnosticsPerFile)) {
    size_t more = out.diagnostics.size() - kMaxDiagnosticsPerFile;
    out.diagnostics.resize(kMaxDiagnosticsPerFile);
    Diagnostic last = out.diagnostics.back();
    last.message = std::to_string(more) + " more problems in this file are not shown";
    out.diagnostics.push_back(last);
  }
  return out;
}

}  // namespace gitdisc::specs
