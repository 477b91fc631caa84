#include "reconciler/desired.h"

#include <algorithm>

#include "base/sha256.h"
#include "iso/bundle.h"

namespace gitdisc::reconciler {

Result<DesiredBuild> AssembleDesired(const specs::Snapshot& snapshot,
                                     const std::vector<VmInfo>& inventory) {
  if (!snapshot.valid()) {
    std::string msg = "revision " + snapshot.revision() + " has invalid specs";
    for (const auto& d : snapshot.diagnostics()) {
      if (d.severity == specs::Diagnostic::Severity::kError) msg += "\n" + d.ToString();
    }
    return Status::Invalid(msg);
  }
  DesiredBuild out;
  out.state.revision = snapshot.revision();
  const std::vector<specs::PayloadSet>& sets = snapshot.load().sets;

  specs::DigestMap digests;
  for (const specs::PayloadSet& s : sets) {
    DesiredSet ds;
    ds.name = s.name;
    ds.rollout = s.rollout;
    ds.suspend = s.suspend;
    std::string content;
    for (const specs::Payload& p : s.payloads) {
      auto d = snapshot.Digest(p);
      if (!d.ok()) {
        return d.status().Annotate("payload " + p.name + " of set " + s.name);
      }
      digests[{s.name, p.name}] = *d;
      ds.payload_digests[p.name] = *d;
      content += p.name + "=" + *d + "\n";
    }
    ds.content_digest = Sha256Hex(content);
    out.state.sets[s.name] = std::move(ds);
  }

  for (const VmInfo& vm : inventory) {
    GITDISC_ASSIGN_OR_RETURN(specs::VmDesiredState ds,
                             specs::DesiredStateFor(sets, vm.name, vm.labels, digests));
    if (ds.sets.empty()) continue;  // not selected: never touched
    DesiredVm w;
    w.sets = ds.sets;
    std::sort(w.sets.begin(), w.sets.end());
    if (ds.conflicted()) {
      w.conflict = true;
      for (const auto& c : ds.conflicts) {
        if (!w.conflict_message.empty()) w.conflict_message += "; ";
        w.conflict_message += c.message;
      }
    } else {
      std::vector<std::string> pd;
      for (const specs::DesiredPayload& p : ds.payloads) {
        DesiredPayload dp;
        dp.name = p.name;
        dp.version = p.payload.version;
        dp.digest = p.digest;
        dp.timeout = p.payload.timeout;
        dp.sets = p.sets;
        w.payloads.push_back(std::move(dp));
        pd.push_back(p.digest);
      }
      if (!pd.empty()) {
        w.bundle_digest = iso::ComputeBundleDigest(pd);
        if (!out.bundles.count(w.bundle_digest)) out.bundles[w.bundle_digest] = ds.payloads;
        out.bundle_vms[w.bundle_digest].push_back(vm.name);
      }
    }
    out.state.vms[vm.key] = std::move(w);
  }
  for (auto& [d, names] : out.bundle_vms) std::sort(names.begin(), names.end());
  return out;
}

}  // namespace gitdisc::reconciler
