#include "iso/image_build_state.h"

#include <utility>

namespace gitdisc::iso {

void BuildState::Fail(Status s) {
  std::lock_guard<std::mutex> l(mu);
  if (error.ok()) error = std::move(s);
  failed = true;
}

Status BuildState::FirstError() {
  std::lock_guard<std::mutex> l(mu);
  return error;
}

std::string Where(const BuildState& st, const Slot& slot) {
  const BundlePayload& p = st.bundle->payloads[slot.payload];
  return "payload " + p.name + ", file \"" + p.files[slot.file].path + "\"";
}

Manifest BuildManifest(const BuildState& st) {
  Manifest m;
  m.revision = st.bundle->revision;
  std::vector<std::string> digests;
  for (size_t pi = 0; pi < st.bundle->payloads.size(); ++pi) {
    const BundlePayload& p = st.bundle->payloads[pi];
    ManifestPayload mp;
    mp.name = p.name;
    mp.version = p.version;
    mp.run = p.run;
    mp.env = p.env;
    mp.timeout_seconds = p.timeout_seconds;
    mp.reboot = p.reboot;
    mp.after = p.after;
    bool all_known = true;
    BundlePayload with_digests = p;
    for (size_t fi = 0; fi < p.files.size(); ++fi) {
      const BundleFile& f = p.files[fi];
      const Slot& slot = st.slots[st.slot_of[pi][fi]];
      ManifestFile mf;
      mf.path = f.path;
      mf.size = f.size;
      mf.mode = f.is_symlink() ? (kModeSymlink | 0777) : (kModeRegular | (f.mode & 0777));
      mf.sha256 = slot.done ? slot.digest : kZeroDigest;
      all_known = all_known && slot.done;
      with_digests.files[fi].sha256 = mf.sha256;
      mp.files.push_back(std::move(mf));
    }
    if (!p.digest.empty()) {
      mp.digest = p.digest;
    } else {
      mp.digest = all_known ? ComputePayloadDigest(with_digests) : kZeroDigest;
    }
    digests.push_back(mp.digest);
    m.payloads.push_back(std::move(mp));
  }
  m.digest = ComputeBundleDigest(digests);
  return m;
}

}  // namespace gitdisc::iso
