#include "iso/iso_writer.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>

#include "base/sha256.h"
#include "iso/bundle_stream.h"
#include "iso/image_build_state.h"
#include "iso/libisofs_support.h"
#include "iso/temp_image_file.h"
#include "iso/volume_descriptor_patch.h"

namespace gitdisc::iso {
namespace {

constexpr size_t kBlock = 2048;
constexpr uint64_t kFourGiB = 4ull << 30;

void StampNode(IsoNode* node, mode_t perm, time_t t) {
  iso_node_set_permissions(node, perm);
  iso_node_set_uid(node, 0);
  iso_node_set_gid(node, 0);
  iso_node_set_mtime(node, t);
  iso_node_set_atime(node, t);
  iso_node_set_ctime(node, t);
}

class TreeBuilder {
 public:
  TreeBuilder(IsoImage* image, time_t t) : image_(image), t_(t) {}

  // The folder for "a/b" below `base`, creating missing levels.
  Result<IsoDir*> Dir(IsoDir* base, const std::string& key, const std::string& rel) {
    IsoDir* cur = base;
    std::string sofar = key;
    size_t start = 0;
    while (start < rel.size()) {
      size_t slash = rel.find('/', start);
      if (slash == std::string::npos) slash = rel.size();
      std::string part = rel.substr(start, slash - start);
      sofar += "/" + part;
      auto it = dirs_.find(sofar);
      if (it != dirs_.end()) {
        cur = it->second;
      } else {
        IsoDir* made = nullptr;
        int rc = iso_image_add_new_dir(image_, cur, part.c_str(), &made);
        if (rc < 0) return IsoError("add folder " + sofar, rc);
        StampNode(reinterpret_cast<IsoNode*>(made), 0755, t_);
        dirs_[sofar] = made;
        cur = made;
      }
      start = slash + 1;
    }
    return cur;
  }

 private:
  IsoImage* image_;
  time_t t_;
  std::map<std::string, IsoDir*> dirs_;
};

// One slot per bundle file, in bundle order. Symlinks are known up front
// (their digest is their target's); so are empty files, which libisofs never
// reads. Sets the manifest's final length.
Status InitSlots(BuildState& st) {
  const Bundle& bundle = *st.bundle;
  st.slot_of.resize(bundle.payloads.size());
  for (size_t pi = 0; pi < bundle.payloads.size(); ++pi) {
    for (size_t fi = 0; fi < bundle.payloads[pi].files.size(); ++fi) {
      const BundleFile& f = bundle.payloads[pi].files[fi];
      Slot slot;
      slot.payload = pi;
      slot.file = fi;
      if (f.is_symlink()) {
        slot.digest = Sha256Hex(f.symlink_target);
        slot.done = true;
        if (!f.sha256.empty() && f.sha256 != slot.digest) {
          return Status::Corrupt(Where(st, slot) + ": symlink target has sha256 " + slot.digest +
                                 ", expected " + f.sha256);
        }
      }
      st.slot_of[pi].push_back(st.slots.size());
      st.slots.push_back(std::move(slot));
    }
  }
  st.manifest_size = RenderManifest(BuildManifest(st)).size();
  return Status::Ok();
}

// Slot indexes in a stable order: by payload name, then path. Serial
// numbers (the streams' identity) follow that order, and so does the data.
std::vector<size_t> DataOrder(const BuildState& st) {
  const Bundle& bundle = *st.bundle;
  std::vector<size_t> order(st.slots.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Slot& x = st.slots[a];
    const Slot& y = st.slots[b];
    const std::string& nx = bundle.payloads[x.payload].name;
    const std::string& ny = bundle.payloads[y.payload].name;
    if (nx != ny) return nx < ny;
    return bundle.payloads[x.payload].files[x.file].path <
           bundle.payloads[y.payload].files[y.file].path;
  });
  return order;
}

// Adds `stream` as file `name` in `dir` (taking the caller's reference, or
// dropping it on failure) with the given permissions and sort weight.
Status AddStreamFile(IsoImage* image, IsoDir* dir, const std::string& name, IsoStream* stream,
                     mode_t perm, int weight, time_t t, const std::string& what) {
  if (!stream) return Status::Internal("out of memory");
  IsoFile* file = nullptr;
  int rc = iso_image_add_new_file(image, dir, name.c_str(), stream, &file);
  if (rc < 0) {
    iso_stream_unref(stream);
    return IsoError(what, rc);
  }
  StampNode(reinterpret_cast<IsoNode*>(file), perm, t);
  iso_node_set_sort_weight(reinterpret_cast<IsoNode*>(file), weight);
  return Status::Ok();
}

// The image's tree: /P/<payload>/<path> for every file, in DataOrder, then
// /GITDISC.JSN with the lowest weight so that it is written after every
// payload file (see the header).
Status AddTree(IsoImage* image, BuildState& st, time_t t) {
  const Bundle& bundle = *st.bundle;
  IsoDir* root = iso_image_get_root(image);
  StampNode(reinterpret_cast<IsoNode*>(root), 0755, t);
  TreeBuilder tree(image, t);
  GITDISC_ASSIGN_OR_RETURN(IsoDir * proot, tree.Dir(root, "", kPayloadRoot));
  for (const BundlePayload& p : bundle.payloads) {
    GITDISC_ASSIGN_OR_RETURN(IsoDir * pdir, tree.Dir(proot, kPayloadRoot, p.name));
    (void)pdir;  // empty payloads still get their folder
  }
  uint64_t serial = 0;
  for (size_t idx : DataOrder(st)) {
    const Slot& slot = st.slots[idx];
    const BundlePayload& p = bundle.payloads[slot.payload];
    const BundleFile& f = p.files[slot.file];
    size_t slash = f.path.rfind('/');
    std::string parent = slash == std::string::npos ? "" : f.path.substr(0, slash);
    std::string leaf = slash == std::string::npos ? f.path : f.path.substr(slash + 1);
    std::string key = std::string(kPayloadRoot) + "/" + p.name;
    GITDISC_ASSIGN_OR_RETURN(IsoDir * pdir, tree.Dir(proot, kPayloadRoot, p.name));
    GITDISC_ASSIGN_OR_RETURN(IsoDir * dir, tree.Dir(pdir, key, parent));
    if (f.is_symlink()) {
      IsoSymlink* link = nullptr;
      int rc = iso_image_add_new_symlink(image, dir, leaf.c_str(), f.symlink_target.c_str(), &link);
      if (rc < 0) return IsoError("add symlink " + key + "/" + f.path, rc);
      StampNode(reinterpret_cast<IsoNode*>(link), 0777, t);
      continue;
    }
    ++serial;
    if (f.size == 0) {
      // Nothing to stream: libisofs never reads an empty file.
      Slot& s = st.slots[idx];
      s.digest = Sha256Hex("");
      s.done = true;
      if (!f.sha256.empty() && f.sha256 != s.digest) {
        return Status::Corrupt(Where(st, s) + ": empty, but expected sha256 " + f.sha256);
      }
    }
    GITDISC_RETURN_IF_ERROR(AddStreamFile(image, dir, leaf, NewFileStream(&st, idx, serial, f.size),
                                          f.mode & 0777, 1, t, "add file " + key + "/" + f.path));
  }
  return AddStreamFile(image, root, kManifestName, NewManifestStream(&st, ++serial), 0444, 0, t,
                       "add manifest");
}

// Rock Ridge + Joliet, no relocation, and every setting that would make the
// bytes depend on anything but the bundle pinned.
Result<IsoWriteOptsPtr> MakeWriteOpts(const Bundle& bundle, time_t t) {
  IsoWriteOpts* raw_opts = nullptr;
  int rc = iso_write_opts_new(&raw_opts, 0);
  if (rc < 0) return IsoError("iso_write_opts_new", rc);
  IsoWriteOptsPtr opts(raw_opts);
  iso_write_opts_set_iso_level(opts.get(), IsoLevelFor(bundle));
  iso_write_opts_set_rockridge(opts.get(), 1);
  iso_write_opts_set_joliet(opts.get(), 1);
  iso_write_opts_set_joliet_long_names(opts.get(), 1);
  iso_write_opts_set_joliet_longer_paths(opts.get(), 1);
  iso_write_opts_set_allow_deep_paths(opts.get(), 1);  // no RR_MOVED relocation
  iso_write_opts_set_allow_longer_paths(opts.get(), 1);
  iso_write_opts_set_aaip(opts.get(), 0);
  iso_write_opts_set_hardlinks(opts.get(), 0);
  // RRIP 1.10 has no inode numbers in PX; libisofs numbers nodes in an order
  // that depends on memory addresses, which would break reproducibility.
  iso_write_opts_set_rrip_version_1_10(opts.get(), 1);
  iso_write_opts_set_rrip_1_10_px_ino(opts.get(), 0);
  iso_write_opts_set_sort_files(opts.get(), 1);
  iso_write_opts_set_always_gmt(opts.get(), 1);
  iso_write_opts_set_dir_rec_mtime(opts.get(), 7);
  iso_write_opts_set_replace_timestamps(opts.get(), 2);
  iso_write_opts_set_default_timestamp(opts.get(), t);
  iso_write_opts_set_output_charset(opts.get(), "UTF-8");
  iso_write_opts_set_fifo_size(opts.get(), 4096);
  iso_write_opts_set_pvd_times(opts.get(), t, t, 0, 0, const_cast<char*>(kUuidPlaceholder));
  return opts;
}

// Drains the image libisofs produces into `tmp`, reporting progress. Returns
// the bytes written; a failure is recorded in `st` (the first one wins).
uint64_t DrainImage(burn_source* bs, uint64_t total, TempImageFile& tmp, BuildState& st,
                    const IsoWriteOptions& options) {
  uint64_t done = 0;
  uint64_t flushed = 0;
  constexpr uint64_t kFlushEvery = 8u << 20;
  constexpr int kChunk = 64 * static_cast<int>(kBlock);
  auto buf = std::make_unique_for_overwrite<unsigned char[]>(kChunk);
  while (true) {
    if (st.failed || done == total) break;
    // The ring buffer only hands out whole requests: never ask past the end.
    int want = static_cast<int>(std::min<uint64_t>(kChunk, total - done));
    int n = bs->read_xt(bs, buf.get(), want);
    if (n < 0) {
      st.Fail(Status::Io("libisofs could not produce the image"));
      break;
    }
    if (n == 0) break;
    Status write_status = tmp.Write(buf.get(), static_cast<size_t>(n));
    if (!write_status.ok()) {
      st.Fail(write_status);
      break;
    }
    done += static_cast<uint64_t>(n);
    // Start writeback of each finished 8 MiB stretch now, so the disk works
    // while libisofs reads and hashes, and the final fsync has little left.
    if (done - flushed >= kFlushEvery) {
      ::sync_file_range(tmp.fd(), static_cast<off_t>(flushed), static_cast<off_t>(done - flushed),
                        SYNC_FILE_RANGE_WRITE);
      flushed = done;
    }
    if (options.progress) options.progress(done, total);
  }
  return done;
}

}  // namespace

int IsoLevelFor(const Bundle& bundle) {
  for (const BundlePayload& p : bundle.payloads) {
    for (const BundleFile& f : p.files) {
      if (!f.is_symlink() && f.size >= kFourGiB) return 3;
    }
  }
  return 2;
}

Result<IsoWriteResult> WriteBundleIso(const Bundle& bundle, const std::string& out_path,
                                      const IsoWriteOptions& options) {
  GITDISC_RETURN_IF_ERROR(ValidateBundle(bundle));
  InitLibisofsOnce();
  const time_t t = static_cast<time_t>(bundle.source_date_epoch > 0 ? bundle.source_date_epoch
                                                                    : kDefaultSourceDateEpoch);

  // 1. The slots and the image's tree of streams.
  BuildState st;
  st.bundle = &bundle;
  GITDISC_RETURN_IF_ERROR(InitSlots(st));
  IsoImage* raw_image = nullptr;
  int rc = iso_image_new("GITDISC", &raw_image);
  if (rc < 0) return IsoError("iso_image_new", rc);
  IsoImagePtr image(raw_image);
  iso_image_set_volume_id(image.get(), VolumeIdForDigest(kZeroDigest).c_str());
  iso_image_set_application_id(image.get(), "GITDISC");
  iso_image_set_volset_id(image.get(), options.label.empty() ? "GITDISC" : options.label.c_str());
  GITDISC_RETURN_IF_ERROR(AddTree(image.get(), st, t));
  GITDISC_ASSIGN_OR_RETURN(IsoWriteOptsPtr opts, MakeWriteOpts(bundle, t));

  // 2. The image, streamed into a temporary file next to out_path.
  TempImageFile tmp(out_path);
  GITDISC_RETURN_IF_ERROR(tmp.Create());
  burn_source* raw_bs = nullptr;
  rc = iso_image_create_burn_source(image.get(), opts.get(), &raw_bs);
  if (rc < 0) return IsoError("iso_image_create_burn_source", rc);
  BurnSourcePtr bs(raw_bs);
  const uint64_t total = static_cast<uint64_t>(bs->get_size(bs.get()));
  const uint64_t done = DrainImage(bs.get(), total, tmp, st, options);
  if (st.failed) {
    bs->cancel(bs.get());
    bs.reset();
    return st.FirstError();
  }
  bs.reset();  // joins libisofs' writer thread
  if (done != total) {
    return Status::Internal("image ended after " + std::to_string(done) + " of " +
                            std::to_string(total) + " bytes");
  }

  // 3. The digest-derived volume ID and UUID patched in; the file renamed.
  if (st.manifest_text.empty()) return Status::Internal("the manifest was never written");
  GITDISC_RETURN_IF_ERROR(PatchVolumeDescriptors(tmp.fd(), tmp.path(), st.bundle_digest, t));
  GITDISC_RETURN_IF_ERROR(tmp.CloseAndRename(out_path));

  // Returned in canonical order, exactly as the agent will parse it; this
  // also proves the written manifest passes the strict parser.
  auto parsed = ParseManifest(st.manifest_text);
  if (!parsed.ok()) return parsed.status().Annotate("internal: written manifest");
  IsoWriteResult result;
  result.bundle_digest = st.bundle_digest;
  result.volume_id = VolumeIdForDigest(st.bundle_digest);
  result.manifest = std::move(parsed).value();
  result.image_bytes = total;
  return result;
}

}  // namespace gitdisc::iso
