#include "specs/revision_diff.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

namespace gitdisc::specs {
namespace {

std::string Duration(std::chrono::seconds s) {
  long long n = s.count();
  if (n != 0 && n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n != 0 && n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string SourceText(const PayloadSource& s) {
  if (const auto* p = std::get_if<PathSource>(&s)) return "path:" + p->path;
  if (const auto* f = std::get_if<FileSource>(&s)) return "file:" + f->path;
  return "url:" +
         std::get<UrlSource>(s).url.substr(0, std::get<UrlSource>(s).url.find_first_of("?#"));
}

std::map<std::string, const PayloadSet*> ByName(const std::vector<PayloadSet>& sets) {
  std::map<std::string, const PayloadSet*> out;
  for (const PayloadSet& s : sets) out.emplace(s.name, &s);
  return out;
}

Result<PayloadChange> WholePayload(PayloadChange::Kind kind, const Payload& p, const DigestFn& fn) {
  GITDISC_ASSIGN_OR_RETURN(PayloadDigests d, fn(p));
  PayloadChange c;
  c.kind = kind;
  c.name = p.name;
  if (kind == PayloadChange::Kind::kAdded) {
    c.new_version = p.version;
    c.new_digest = d.digest;
  } else {
    c.old_version = p.version;
    c.old_digest = d.digest;
  }
  return c;
}

}  // namespace

std::string RenderSelector(const Selector& sel) {
  std::vector<std::string> parts;
  if (!sel.match_labels.empty()) {
    std::vector<std::string> kv;
    for (const auto& [k, v] : sel.match_labels) kv.push_back(k + "=" + v);
    parts.push_back("matchLabels{" + Join(kv, ",") + "}");
  }
  if (!sel.match_expressions.empty()) {
    std::vector<std::string> ex;
    for (const SelectorRequirement& r : sel.match_expressions) {
      std::string e = r.key + " " + SelectorOpName(r.op);
      if (!r.values.empty()) e += " (" + Join(r.values, ",") + ")";
      ex.push_back(e);
    }
    parts.push_back("matchExpressions{" + Join(ex, "; ") + "}");
  }
  if (!sel.names.empty()) parts.push_back("names{" + Join(sel.names, ",") + "}");
  return Join(parts, " ");
}

std::string RenderRollout(const Rollout& r) {
  return "maxParallel=" + std::to_string(r.max_parallel.value) +
         (r.max_parallel.percent ? "%" : "") + " maxFailures=" + std::to_string(r.max_failures) +
         " canary=" + std::to_string(r.canary);
}

Result<RevisionDiff> DiffSpecs(const std::vector<PayloadSet>& base_sets,
                               const DigestFn& base_digest, const std::vector<PayloadSet>& rev_sets,
                               const DigestFn& rev_digest) {
  RevisionDiff diff;
  auto old_sets = ByName(base_sets);
  auto new_sets = ByName(rev_sets);
  std::set<std::string> names;
  for (const auto& [n, s] : old_sets) names.insert(n);
  for (const auto& [n, s] : new_sets) names.insert(n);

  for (const std::string& name : names) {
    auto o = old_sets.find(name);
    auto n = new_sets.find(name);
    SetChange sc;
    sc.name = name;
    if (o == old_sets.end() || n == new_sets.end()) {
      bool added = o == old_sets.end();
      const PayloadSet& s = added ? *n->second : *o->second;
      sc.kind = added ? SetChange::Kind::kAdded : SetChange::Kind::kRemoved;
      (added ? sc.new_selector : sc.old_selector) = RenderSelector(s.selector);
      (added ? sc.new_rollout : sc.old_rollout) = RenderRollout(s.rollout);
      (added ? sc.new_suspend : sc.old_suspend) = s.suspend;
      for (const Payload& p : s.payloads) {
        GITDISC_ASSIGN_OR_RETURN(
            PayloadChange pc,
            WholePayload(added ? PayloadChange::Kind::kAdded : PayloadChange::Kind::kRemoved, p,
                         added ? rev_digest : base_digest));
        sc.payloads.push_back(std::move(pc));
      }
      diff.sets.push_back(std::move(sc));
      continue;
    }
    const PayloadSet& os = *o->second;
    const PayloadSet& ns = *n->second;
    sc.kind = SetChange::Kind::kChanged;
    sc.old_selector = RenderSelector(os.selector);
    sc.new_selector = RenderSelector(ns.selector);
    sc.old_rollout = RenderRollout(os.rollout);
    sc.new_rollout = RenderRollout(ns.rollout);
    sc.old_suspend = os.suspend;
    sc.new_suspend = ns.suspend;

    std::map<std::string, const Payload*> op, np;
    for (const Payload& p : os.payloads) op.emplace(p.name, &p);
    for (const Payload& p : ns.payloads) np.emplace(p.name, &p);
    // Removed first (in old order), then the new list in its order.
    for (const Payload& p : os.payloads) {
      if (np.count(p.name) != 0) continue;
      GITDISC_ASSIGN_OR_RETURN(PayloadChange pc,
                               WholePayload(PayloadChange::Kind::kRemoved, p, base_digest));
      sc.payloads.push_back(std::move(pc));
    }
    std::vector<std::string> old_common, new_common;
    for (const Payload& p : os.payloads) {
      if (np.count(p.name) != 0) old_common.push_back(p.name);
    }
    for (const Payload& p : ns.payloads) {
      auto it = op.find(p.name);
      if (it == op.end()) {
        GITDISC_ASSIGN_OR_RETURN(PayloadChange pc,
                                 WholePayload(PayloadChange::Kind::kAdded, p, rev_digest));
        sc.payloads.push_back(std::move(pc));
        continue;
      }
      new_common.push_back(p.name);
      const Payload& before = *it->second;
      GITDISC_ASSIGN_OR_RETURN(PayloadDigests od, base_digest(before));
      GITDISC_ASSIGN_OR_RETURN(PayloadDigests nd, rev_digest(p));
      PayloadChange pc;
      pc.name = p.name;
      pc.old_version = before.version;
      pc.new_version = p.version;
      pc.old_digest = od.digest;
      pc.new_digest = nd.digest;
      if (od.content_digest != nd.content_digest) pc.details.push_back("content");
      if (before.run != p.run) pc.details.push_back("run");
      if (before.env != p.env) pc.details.push_back("env");
      if (before.reboot != p.reboot) {
        pc.details.push_back(std::string("reboot ") + RebootPolicyName(before.reboot) + " → " +
                             RebootPolicyName(p.reboot));
      }
      if (before.timeout != p.timeout) {
        pc.details.push_back("timeout " + Duration(before.timeout) + " → " + Duration(p.timeout));
      }
      if (before.after != p.after) {
        pc.details.push_back("after [" + Join(before.after, ",") + "] → [" + Join(p.after, ",") +
                             "]");
      }
      if (SourceText(before.source) != SourceText(p.source)) {
        pc.details.push_back("source " + SourceText(before.source) + " → " + SourceText(p.source));
      }
      if (before.version != p.version) {
        pc.kind = PayloadChange::Kind::kUpgraded;
      } else if (od.digest != nd.digest) {
        pc.kind = PayloadChange::Kind::kChanged;
        diff.warnings.push_back(name + "/" + p.name + ": " + Join(pc.details, ", ") +
                                " changed but version is still \"" + p.version +
                                "\" (it will be re-applied; bump the version)");
      } else if (!pc.details.empty()) {
        pc.kind = PayloadChange::Kind::kSettings;
      } else {
        continue;
      }
      sc.payloads.push_back(std::move(pc));
    }
    sc.order_changed = old_common != new_common;
    bool changed = !sc.payloads.empty() || sc.order_changed || sc.old_selector != sc.new_selector ||
                   sc.old_rollout != sc.new_rollout || sc.old_suspend != sc.new_suspend;
    if (changed) diff.sets.push_back(std::move(sc));
  }
  return diff;
}

const char* PayloadChangeKindName(PayloadChange::Kind k) {
  switch (k) {
    case PayloadChange::Kind::kAdded:
      return "added";
    case PayloadChange::Kind::kRemoved:
      return "removed";
    case PayloadChange::Kind::kUpgraded:
      return "upgraded";
    case PayloadChange::Kind::kChanged:
      return "changed";
    case PayloadChange::Kind::kSettings:
      return "settings";
  }
  return "?";
}

const char* SetChangeKindName(SetChange::Kind k) {
  switch (k) {
    case SetChange::Kind::kAdded:
      return "added";
    case SetChange::Kind::kRemoved:
      return "removed";
    case SetChange::Kind::kChanged:
      return "changed";
  }
  return "?";
}

std::string RenderDiffText(const RevisionDiff& diff) {
  std::ostringstream out;
  auto short_sha = [](const std::string& s) { return s.size() == 40 ? s.substr(0, 7) : s; };
  out << "specs " << short_sha(diff.base) << " → " << short_sha(diff.revision) << ": ";
  if (diff.empty()) {
    out << "no changes\n";
  } else {
    out << diff.sets.size() << (diff.sets.size() == 1 ? " set" : " sets") << " changed\n";
  }
  // Payload names are padded to one width so versions line up.
  size_t width = 0;
  for (const SetChange& s : diff.sets) {
    for (const PayloadChange& p : s.payloads) width = std::max(width, p.name.size());
  }
  auto pad = [width](const std::string& s) { return s + std::string(width - s.size(), ' '); };
  for (const SetChange& s : diff.sets) {
    char mark = s.kind == SetChange::Kind::kAdded     ? '+'
                : s.kind == SetChange::Kind::kRemoved ? '-'
                                                      : '~';
    out << mark << " set " << s.name;
    if (s.kind == SetChange::Kind::kAdded) out << "  selects " << s.new_selector;
    out << "\n";
    if (s.kind == SetChange::Kind::kChanged) {
      if (s.old_selector != s.new_selector) {
        out << "    selector  " << s.old_selector << " → " << s.new_selector << "\n";
      }
      if (s.old_rollout != s.new_rollout) {
        out << "    rollout   " << s.old_rollout << " → " << s.new_rollout << "\n";
      }
      if (s.old_suspend != s.new_suspend) {
        out << "    suspend   " << (s.old_suspend ? "true" : "false") << " → "
            << (s.new_suspend ? "true" : "false") << "\n";
      }
      if (s.order_changed) out << "    order     payloads are applied in a new order\n";
    }
    for (const PayloadChange& p : s.payloads) {
      switch (p.kind) {
        case PayloadChange::Kind::kAdded:
          out << "    + " << pad(p.name) << "  " << p.new_version << "\n";
          break;
        case PayloadChange::Kind::kRemoved:
          out << "    - " << pad(p.name) << "  " << p.old_version
              << "  (no longer delivered; not uninstalled)\n";
          break;
        case PayloadChange::Kind::kUpgraded:
          out << "    ^ " << pad(p.name) << "  " << p.old_version << " → " << p.new_version;
          if (!p.details.empty()) out << "  (" << Join(p.details, ", ") << ")";
          out << "\n";
          break;
        case PayloadChange::Kind::kChanged:
          out << "    ~ " << pad(p.name) << "  " << p.new_version << "  (" << Join(p.details, ", ")
              << " changed without a version bump)\n";
          break;
        case PayloadChange::Kind::kSettings:
          out << "    ~ " << pad(p.name) << "  " << p.new_version << "  (" << Join(p.details, ", ")
              << "; not re-applied)\n";
          break;
      }
    }
  }
  for (const std::string& w : diff.warnings) out << "warning: " << w << "\n";
  return out.str();
}

std::string RenderDiffJson(const RevisionDiff& diff) {
  nlohmann::json sets = nlohmann::json::array();
  for (const SetChange& s : diff.sets) {
    nlohmann::json js = {{"name", s.name}, {"change", SetChangeKindName(s.kind)}};
    if (s.kind != SetChange::Kind::kAdded) {
      js["old"] = {
          {"selector", s.old_selector}, {"rollout", s.old_rollout}, {"suspend", s.old_suspend}};
    }
    if (s.kind != SetChange::Kind::kRemoved) {
      js["new"] = {
          {"selector", s.new_selector}, {"rollout", s.new_rollout}, {"suspend", s.new_suspend}};
    }
    js["selectorChanged"] = s.kind == SetChange::Kind::kChanged && s.old_selector != s.new_selector;
    js["rolloutChanged"] = s.kind == SetChange::Kind::kChanged && s.old_rollout != s.new_rollout;
    js["suspendChanged"] = s.kind == SetChange::Kind::kChanged && s.old_suspend != s.new_suspend;
    js["orderChanged"] = s.order_changed;
    nlohmann::json payloads = nlohmann::json::array();
    for (const PayloadChange& p : s.payloads) {
      nlohmann::json jp = {
          {"name", p.name}, {"change", PayloadChangeKindName(p.kind)}, {"details", p.details}};
      if (!p.old_version.empty() || p.kind != PayloadChange::Kind::kAdded) {
        jp["oldVersion"] = p.old_version;
        jp["oldDigest"] = p.old_digest;
      }
      if (p.kind != PayloadChange::Kind::kRemoved) {
        jp["newVersion"] = p.new_version;
        jp["newDigest"] = p.new_digest;
      }
      payloads.push_back(std::move(jp));
    }
    js["payloads"] = std::move(payloads);
    sets.push_back(std::move(js));
  }
  nlohmann::json j = {{"schemaVersion", 1},        {"base", diff.base},
                      {"revision", diff.revision}, {"changed", !diff.empty()},
                      {"sets", std::move(sets)},   {"warnings", diff.warnings}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace gitdisc::specs
