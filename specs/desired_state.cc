#include "specs/desired_state.h"

#include <algorithm>
#include <set>

#include "specs/name_rules.h"

namespace gitdisc::specs {
namespace {

std::string Short(const std::string& digest) { return digest.substr(0, 12); }

std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += Quoted(names[i]);
  }
  return out;
}

struct Node {
  DesiredPayload desired;
  std::vector<std::pair<std::string, std::string>> variants;  // (set, digest), all sets
  std::set<std::string> after;
};

}  // namespace

Result<VmDesiredState> DesiredStateFor(const std::vector<PayloadSet>& sets,
                                       std::string_view vm_name, const Labels& labels,
                                       const DigestLookup& digest) {
  VmDesiredState out;
  std::vector<Node> nodes;
  std::map<std::string, size_t> index;
  for (const PayloadSet& set : sets) {
    if (set.suspend || !Matches(set.selector, vm_name, labels)) continue;
    out.sets.push_back(set.name);
    for (const Payload& p : set.payloads) {
      GITDISC_ASSIGN_OR_RETURN(std::string d, digest(set, p));
      auto [it, fresh] = index.emplace(p.name, nodes.size());
      if (fresh) {
        Node n;
        n.desired = DesiredPayload{p.name, d, p, {}};
        nodes.push_back(std::move(n));
      }
      Node& n = nodes[it->second];
      n.variants.emplace_back(set.name, d);
      if (d == n.desired.digest) {
        if (std::find(n.desired.sets.begin(), n.desired.sets.end(), set.name) ==
            n.desired.sets.end()) {
          n.desired.sets.push_back(set.name);
        }
        n.after.insert(p.after.begin(), p.after.end());
      }
    }
  }

  for (const Node& n : nodes) {
    std::vector<std::string> digests;
    for (const auto& [set, d] : n.variants) {
      if (std::find(digests.begin(), digests.end(), d) == digests.end()) digests.push_back(d);
    }
    if (digests.size() < 2) continue;
    PayloadConflict c;
    c.payload = n.desired.name;
    std::string detail;
    for (const auto& [set, d] : n.variants) {
      if (std::find(c.sets.begin(), c.sets.end(), set) == c.sets.end()) c.sets.push_back(set);
      if (!detail.empty()) detail += ", ";
      detail += Quoted(set) + " has digest " + Short(d);
    }
    c.message = "payload " + Quoted(n.desired.name) + " differs between PayloadSets " +
                QuotedList(c.sets) + " (" + detail +
                "); nothing is applied to this VM until "
                "they agree";
    out.conflicts.push_back(std::move(c));
  }
  if (out.conflicted()) return out;

  // Kahn's algorithm, always taking the earliest ready payload.
  std::vector<int> waiting(nodes.size(), 0);
  std::vector<std::vector<size_t>> unblocks(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const std::string& a : nodes[i].after) {
      auto it = index.find(a);
      if (it == index.end() || it->second == i) continue;  // not desired here: no constraint
      unblocks[it->second].push_back(i);
      ++waiting[i];
    }
  }
  std::set<size_t> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (waiting[i] == 0) ready.insert(i);
  }
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (size_t j : unblocks[i]) {
      if (--waiting[j] == 0) ready.insert(j);
    }
  }
  if (order.size() < nodes.size()) {
    PayloadConflict c;
    std::vector<std::string> names;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (waiting[i] == 0) continue;
      names.push_back(nodes[i].desired.name);
      for (const std::string& s : nodes[i].desired.sets) {
        if (std::find(c.sets.begin(), c.sets.end(), s) == c.sets.end()) c.sets.push_back(s);
      }
    }
    c.payload = names.front();
    c.message = "payloads " + QuotedList(names) +
                " wait for each other through 'after' across PayloadSets " + QuotedList(c.sets) +
                "; nothing is applied to this VM until the cycle is broken";
    out.conflicts.push_back(std::move(c));
    return out;
  }
  for (size_t i : order) out.payloads.push_back(std::move(nodes[i].desired));
  return out;
}

Result<VmDesiredState> DesiredStateFor(const std::vector<PayloadSet>& sets,
                                       std::string_view vm_name, const Labels& labels,
                                       const DigestMap& digests) {
  return DesiredStateFor(
      sets, vm_name, labels,
      [&digests](const PayloadSet& set, const Payload& p) -> Result<std::string> {
        auto it = digests.find({set.name, p.name});
        if (it == digests.end()) {
          return Status::NotFound("no digest for payload " + Quoted(p.name) + " of PayloadSet " +
                                  Quoted(set.name));
        }
        return it->second;
      });
}

}  // namespace gitdisc::specs
