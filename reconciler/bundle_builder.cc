#include "reconciler/bundle_builder.h"

#include "base/file_util.h"

namespace gitdisc::reconciler {

Result<iso::Bundle> MakeBundle(std::shared_ptr<const specs::Snapshot> snapshot,
                               const std::vector<specs::DesiredPayload>& payloads) {
  iso::Bundle b;
  b.revision = snapshot->revision();
  b.source_date_epoch = snapshot->commit_time();
  for (const specs::DesiredPayload& dp : payloads) {
    const specs::Payload& p = dp.payload;
    iso::BundlePayload bp;
    bp.name = p.name;
    bp.version = p.version;
    bp.digest = dp.digest;
    bp.run = p.run;
    bp.env = p.env;
    bp.timeout_seconds = p.timeout.count();
    bp.reboot = specs::RebootPolicyName(p.reboot);
    bp.after = p.after;
    auto content = snapshot->Content(p);
    if (!content.ok()) return content.status().Annotate("payload " + p.name);
    auto shared = std::make_shared<specs::PayloadContent>(std::move(content).value());
    for (const specs::PayloadFile& f : shared->files) {
      iso::BundleFile bf;
      bf.path = f.path;
      bf.mode = f.mode & 0777;
      bf.size = f.size;
      bf.sha256 = f.sha256;
      bf.symlink_target = f.symlink_target;
      if (!f.is_symlink()) {
        bf.open = [snapshot, shared, f]() -> Result<std::unique_ptr<iso::FileReader>> {
          if (!shared->local_path.empty()) return iso::OpenDiskFile(shared->local_path);
          if (!shared->local_folder.empty()) {
            return iso::OpenDiskFile(JoinPath(shared->local_folder, f.path));
          }
          GITDISC_ASSIGN_OR_RETURN(std::string data, snapshot->ReadFile(*shared, f));
          return iso::MemoryReader(std::move(data));
        };
      }
      bp.files.push_back(std::move(bf));
    }
    b.payloads.push_back(std::move(bp));
  }
  return b;
}

Result<EnsuredImage> EnsureImage(iso::IsoCache& cache,
                                 std::shared_ptr<const specs::Snapshot> snapshot,
                                 const std::string& bundle_digest,
                                 const std::vector<specs::DesiredPayload>& payloads,
                                 const std::string& owner) {
  GITDISC_RETURN_IF_ERROR(cache.Pin(bundle_digest, owner));
  EnsuredImage out;
  out.digest = bundle_digest;
  out.built = !cache.Contains(bundle_digest);
  GITDISC_ASSIGN_OR_RETURN(iso::Bundle bundle, MakeBundle(std::move(snapshot), payloads));
  GITDISC_ASSIGN_OR_RETURN(std::string digest, iso::KnownBundleDigest(bundle));
  if (digest != bundle_digest) {
    return Status::Internal("bundle digest mismatch: planned " + bundle_digest + ", built " +
                            digest);
  }
  GITDISC_ASSIGN_OR_RETURN(out.path, cache.Ensure(bundle));
  return out;
}

}  // namespace gitdisc::reconciler
