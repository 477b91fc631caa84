#include "iso/iso_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <random>

#include "base/file_util.h"
#include "base/sha256.h"

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

// libisofs hides `struct iso_stream` from C++ (its member is named `class`).
// Its layout is public, stable C ABI; complete the type here so gitdisc can
// implement its own stream class. libisofs frees the struct with free().
struct iso_stream {
  IsoStreamIface* klass;
  int refcount;
  void* data;
};

namespace gitdisc::iso {
namespace {

constexpr size_t kBlock = 2048;
constexpr char kZeroDigest[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kUuidPlaceholder[] = "0000000000000000";
constexpr unsigned int kStreamFsId = 0x47444953;  // "GDIS"
constexpr uint64_t kFourGiB = 4ull << 30;

struct ImageDeleter {
  void operator()(IsoImage* p) const { iso_image_unref(p); }
};
using IsoImagePtr = std::unique_ptr<IsoImage, ImageDeleter>;
struct OptsDeleter {
  void operator()(IsoWriteOpts* p) const { iso_write_opts_free(p); }
};
using IsoWriteOptsPtr = std::unique_ptr<IsoWriteOpts, OptsDeleter>;
struct BurnSourceDeleter {
  void operator()(burn_source* p) const {
    p->free_data(p);
    free(p);
  }
};
using BurnSourcePtr = std::unique_ptr<burn_source, BurnSourceDeleter>;

Status IsoError(const std::string& what, int code) {
  const char* text = iso_error_to_msg(code);
  return Status::Internal("libisofs " + what + ": " + (text ? text : "error") + " (" +
                          std::to_string(code) + ")");
}

void InitLibisofsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    iso_init();
    // Node names are UTF-8 whatever the process locale; libisofs converts
    // from its "local" charset, so that is declared once for the process.
    iso_set_local_charset(const_cast<char*>("UTF-8"), 0);
    // Failures reach gitdisc through return codes and our own stream state;
    // libisofs must not print to stderr on its own.
    iso_set_msgs_severities(const_cast<char*>("NEVER"),
                            const_cast<char*>(getenv("GITDISC_ISO_DEBUG") ? "ALL" : "NEVER"),
                            const_cast<char*>("gitdisc"));
  });
}

// One file slot of the build: what streamed, and what came out.
struct Slot {
  size_t payload = 0;
  size_t file = 0;
  std::string digest;  // computed while streaming
  bool done = false;
};

struct BuildState {
  const Bundle* bundle = nullptr;
  std::vector<Slot> slots;
  std::vector<std::vector<size_t>> slot_of;  // [payload][file] -> slot index
  size_t manifest_size = 0;
  std::string manifest_text;  // the final manifest, rendered when libisofs reaches it
  Manifest manifest;
  std::string bundle_digest;

  std::atomic<bool> failed{false};
  std::mutex mu;
  Status error;  // first failure, guarded by mu

  void Fail(Status s) {
    std::lock_guard<std::mutex> l(mu);
    if (error.ok()) error = std::move(s);
    failed = true;
  }
  Status FirstError() {
    std::lock_guard<std::mutex> l(mu);
    return error;
  }
};

std::string Where(const BuildState& st, const Slot& slot) {
  const BundlePayload& p = st.bundle->payloads[slot.payload];
  return "payload " + p.name + ", file \"" + p.files[slot.file].path + "\"";
}

// Builds the manifest from the bundle and the digests known so far; unknown
// digests are kZeroDigest (same width, so the length does not change).
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

// ---- libisofs stream classes ----

struct StreamData {
  BuildState* state = nullptr;
  bool is_manifest = false;
  size_t slot = 0;
  uint64_t serial = 0;
  uint64_t size = 0;
  // File streams.
  std::unique_ptr<FileReader> reader;
  Sha256Hasher hasher;
  uint64_t pos = 0;
  std::unique_ptr<char[]> buf;
  size_t buf_len = 0, buf_pos = 0;
  bool eof = false;
};

constexpr size_t kReadChunk = 1 << 20;

StreamData* Data(IsoStream* s) { return static_cast<StreamData*>(s->data); }

void FinishFile(StreamData* d) {
  BuildState* st = d->state;
  Slot& slot = st->slots[d->slot];
  if (slot.done) return;
  std::string digest = d->hasher.FinishHex();
  const BundleFile& f = st->bundle->payloads[slot.payload].files[slot.file];
  if (!f.sha256.empty() && f.sha256 != digest) {
    st->Fail(Status::Corrupt(Where(*st, slot) + ": content has sha256 " + digest + ", expected " +
                             f.sha256));
  }
  slot.digest = std::move(digest);
  slot.done = true;
}

int StreamOpen(IsoStream* s) {
  StreamData* d = Data(s);
  BuildState* st = d->state;
  if (d->is_manifest) {
    // Every file precedes the manifest in the data area, so every digest is
    // known by now; anything else is a bug or an earlier failure.
    for (const Slot& slot : st->slots) {
      if (!slot.done) {
        st->Fail(Status::Internal("manifest reached before " + Where(*st, slot) + " was written"));
        return static_cast<int>(ISO_FILE_ERROR);
      }
    }
    st->manifest = BuildManifest(*st);
    st->manifest_text = RenderManifest(st->manifest);
    st->bundle_digest = st->manifest.digest;
    if (st->manifest_text.size() != st->manifest_size) {
      st->Fail(Status::Internal("manifest length changed while building"));
      return static_cast<int>(ISO_FILE_ERROR);
    }
    d->pos = 0;
    return 1;
  }
  const Slot& slot = st->slots[d->slot];
  const BundleFile& f = st->bundle->payloads[slot.payload].files[slot.file];
  auto reader = f.open();
  if (!reader.ok()) {
    st->Fail(reader.status().Annotate(Where(*st, slot)));
    return static_cast<int>(ISO_FILE_ERROR);
  }
  d->reader = std::move(reader).value();
  d->pos = 0;
  d->eof = false;
  d->buf_len = d->buf_pos = 0;
  if (!d->buf) d->buf.reset(new char[kReadChunk]);
  return 1;
}

int StreamClose(IsoStream* s) {
  StreamData* d = Data(s);
  if (!d->is_manifest) {
    d->reader.reset();
    d->buf.reset();
  }
  return 1;
}

off_t StreamSize(IsoStream* s) { return static_cast<off_t>(Data(s)->size); }

int StreamRead(IsoStream* s, void* out, size_t count) {
  StreamData* d = Data(s);
  BuildState* st = d->state;
  if (st->failed) return static_cast<int>(ISO_FILE_READ_ERROR);
  if (d->is_manifest) {
    size_t k = std::min(count, st->manifest_text.size() - d->pos);
    std::memcpy(out, st->manifest_text.data() + d->pos, k);
    d->pos += k;
    return static_cast<int>(k);
  }
  const Slot& slot = st->slots[d->slot];
  char* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < count) {
    if (d->buf_pos == d->buf_len) {
      if (d->eof) break;
      auto got = d->reader->Read(d->buf.get(), kReadChunk);
      if (!got.ok()) {
        st->Fail(got.status().Annotate(Where(*st, slot)));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      if (*got == 0) {
        d->eof = true;
        break;
      }
      if (d->pos + *got > d->size) {
        st->Fail(Status::Corrupt(Where(*st, slot) + ": longer than its declared " +
                                 std::to_string(d->size) + " bytes"));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      d->hasher.Update(d->buf.get(), *got);
      d->pos += *got;
      d->buf_len = *got;
      d->buf_pos = 0;
    }
    size_t k = std::min(count - done, d->buf_len - d->buf_pos);
    std::memcpy(dst + done, d->buf.get() + d->buf_pos, k);
    d->buf_pos += k;
    done += k;
  }
  if (d->pos == d->size && d->buf_pos == d->buf_len) {
    // All declared bytes are in; one more read must report end of data.
    if (!d->eof) {
      char probe;
      auto got = d->reader->Read(&probe, 1);
      if (!got.ok() || *got != 0) {
        st->Fail(Status::Corrupt(Where(*st, slot) + ": longer than its declared " +
                                 std::to_string(d->size) + " bytes"));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      d->eof = true;
    }
    FinishFile(d);
  } else if (d->eof && done == 0) {
    st->Fail(Status::Corrupt(Where(*st, slot) + ": shorter than its declared " +
                             std::to_string(d->size) + " bytes"));
    return static_cast<int>(ISO_FILE_READ_ERROR);
  }
  return static_cast<int>(done);
}

int StreamRepeatable(IsoStream*) { return 0; }

void StreamGetId(IsoStream* s, unsigned int* fs_id, dev_t* dev_id, ino_t* ino_id) {
  *fs_id = kStreamFsId;
  *dev_id = 0;
  *ino_id = static_cast<ino_t>(Data(s)->serial);
}

void StreamFree(IsoStream* s) { delete Data(s); }

int StreamUpdateSize(IsoStream*) { return 1; }

IsoStream* StreamInput(IsoStream*, int) { return nullptr; }

int StreamCmpIno(IsoStream* a, IsoStream* b) {
  uint64_t x = Data(a)->serial, y = Data(b)->serial;
  return x < y ? -1 : (x > y ? 1 : 0);
}

IsoStreamIface kStreamClass = {
    3,           {'u', 's', 'e', 'r'}, StreamOpen,  StreamClose, StreamSize,
    StreamRead,  StreamRepeatable,     StreamGetId, StreamFree,  StreamUpdateSize,
    StreamInput, StreamCmpIno,         nullptr,
};

IsoStream* NewStream(std::unique_ptr<StreamData> data) {
  auto* s = static_cast<IsoStream*>(std::malloc(sizeof(IsoStream)));
  if (!s) return nullptr;
  s->klass = &kStreamClass;
  s->refcount = 1;
  s->data = data.release();
  return s;
}

// ---- tree ----

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

// Replaces the digest-derived placeholders in the volume descriptors of the
// written image: the volume ID (PVD: 32 d-characters; Joliet SVD: 16 UCS-2
// characters) and the UUID digits of the volume times.
Status PatchVolumeDescriptors(int fd, const std::string& path, const std::string& digest,
                              time_t epoch) {
  const std::string vol_id = VolumeIdForDigest(digest);
  const std::string placeholder = VolumeIdForDigest(kZeroDigest);
  const std::string uuid = VolumeUuidForDigest(digest);
  // libisofs writes the UUID into both volume times; the creation time gets
  // the real (source date) time back, the modification time keeps the UUID.
  char created[64];
  struct tm tm;
  gmtime_r(&epoch, &tm);
  std::snprintf(created, sizeof created, "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  bool patched_primary = false;
  for (int block = 16; block < 16 + 32; ++block) {
    unsigned char vd[kBlock];
    ssize_t got = ::pread(fd, vd, kBlock, static_cast<off_t>(block) * kBlock);
    if (got != static_cast<ssize_t>(kBlock)) return Status::FromErrno("pread " + path, errno);
    if (std::memcmp(vd + 1, "CD001", 5) != 0) {
      return Status::Internal(path + ": volume descriptor " + std::to_string(block) +
                              " is not CD001");
    }
    unsigned char type = vd[0];
    if (type == 255) break;
    bool changed = false;
    if (type == 1) {
      if (std::memcmp(vd + 40, placeholder.data(), 32) != 0) {
        return Status::Internal(path + ": volume ID placeholder not found");
      }
      std::memcpy(vd + 40, vol_id.data(), 32);
      patched_primary = changed = true;
    } else if (type == 2) {
      unsigned char want[32], put[32];
      for (int i = 0; i < 16; ++i) {
        want[2 * i] = 0;
        want[2 * i + 1] = static_cast<unsigned char>(placeholder[i]);
        put[2 * i] = 0;
        put[2 * i + 1] = static_cast<unsigned char>(vol_id[i]);
      }
      if (std::memcmp(vd + 40, want, 32) == 0) {
        std::memcpy(vd + 40, put, 32);
        changed = true;
      }
    }
    if (type == 1 || type == 2) {
      // Creation (813) and modification (830) times, 17 bytes each.
      for (int off : {813, 830}) {
        if (std::memcmp(vd + off, kUuidPlaceholder, 16) == 0 && vd[off + 16] == 0) {
          std::memcpy(vd + off, off == 813 ? created : uuid.data(), 16);
          changed = true;
        }
      }
    }
    if (changed) {
      ssize_t put = ::pwrite(fd, vd, kBlock, static_cast<off_t>(block) * kBlock);
      if (put != static_cast<ssize_t>(kBlock)) return Status::FromErrno("pwrite " + path, errno);
    }
  }
  if (!patched_primary) return Status::Internal(path + ": no primary volume descriptor");
  return Status::Ok();
}

Status WriteAll(int fd, const unsigned char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string TempName(const std::string& out_path) {
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp-%d-%08x", static_cast<int>(::getpid()), rd());
  std::string dir = DirName(out_path);
  size_t slash = out_path.rfind('/');
  std::string base = slash == std::string::npos ? out_path : out_path.substr(slash + 1);
  return JoinPath(dir, "." + base + suffix);
}

// Removes the temporary file unless released.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  Status Create() {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::FromErrno("create " + path_, errno);
    return Status::Ok();
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  Status CloseAndRename(const std::string& to) {
    if (::fsync(fd_) != 0) return Status::FromErrno("fsync " + path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Status::FromErrno("close " + path_, errno);
    if (::rename(path_.c_str(), to.c_str()) != 0) {
      return Status::FromErrno("rename " + path_ + " to " + to, errno);
    }
    released_ = true;
    std::string dir = DirName(to);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool released_ = false;
};

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

  BuildState st;
  st.bundle = &bundle;
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

  IsoImage* raw_image = nullptr;
  int rc = iso_image_new("GITDISC", &raw_image);
  if (rc < 0) return IsoError("iso_image_new", rc);
  IsoImagePtr image(raw_image);
  iso_image_set_volume_id(image.get(), VolumeIdForDigest(kZeroDigest).c_str());
  iso_image_set_application_id(image.get(), "GITDISC");
  iso_image_set_volset_id(image.get(), options.label.empty() ? "GITDISC" : options.label.c_str());
  IsoDir* root = iso_image_get_root(image.get());
  StampNode(reinterpret_cast<IsoNode*>(root), 0755, t);

  // Payload files, in a stable order: by payload name, then path. Serial
  // numbers (the streams' identity) follow that order, and so does the data.
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
  TreeBuilder tree(image.get(), t);
  GITDISC_ASSIGN_OR_RETURN(IsoDir * proot, tree.Dir(root, "", kPayloadRoot));
  for (const BundlePayload& p : bundle.payloads) {
    GITDISC_ASSIGN_OR_RETURN(IsoDir * pdir, tree.Dir(proot, kPayloadRoot, p.name));
    (void)pdir;  // empty payloads still get their folder
  }
  uint64_t serial = 0;
  for (size_t idx : order) {
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
      rc = iso_image_add_new_symlink(image.get(), dir, leaf.c_str(), f.symlink_target.c_str(),
                                     &link);
      if (rc < 0) return IsoError("add symlink " + key + "/" + f.path, rc);
      StampNode(reinterpret_cast<IsoNode*>(link), 0777, t);
      continue;
    }
    auto data = std::make_unique<StreamData>();
    data->state = &st;
    data->slot = idx;
    data->serial = ++serial;
    data->size = f.size;
    if (f.size == 0) {
      // Nothing to stream: libisofs never reads an empty file.
      Slot& s = st.slots[idx];
      s.digest = Sha256Hex("");
      s.done = true;
      if (!f.sha256.empty() && f.sha256 != s.digest) {
        return Status::Corrupt(Where(st, s) + ": empty, but expected sha256 " + f.sha256);
      }
    }
    IsoStream* stream = NewStream(std::move(data));
    if (!stream) return Status::Internal("out of memory");
    IsoFile* file = nullptr;
    rc = iso_image_add_new_file(image.get(), dir, leaf.c_str(), stream, &file);
    if (rc < 0) {
      iso_stream_unref(stream);
      return IsoError("add file " + key + "/" + f.path, rc);
    }
    StampNode(reinterpret_cast<IsoNode*>(file), f.mode & 0777, t);
    iso_node_set_sort_weight(reinterpret_cast<IsoNode*>(file), 1);
  }
  {
    auto data = std::make_unique<StreamData>();
    data->state = &st;
    data->is_manifest = true;
    data->serial = ++serial;
    data->size = st.manifest_size;
    IsoStream* stream = NewStream(std::move(data));
    if (!stream) return Status::Internal("out of memory");
    IsoFile* file = nullptr;
    rc = iso_image_add_new_file(image.get(), root, kManifestName, stream, &file);
    if (rc < 0) {
      iso_stream_unref(stream);
      return IsoError("add manifest", rc);
    }
    StampNode(reinterpret_cast<IsoNode*>(file), 0444, t);
    // Lowest weight: written after every payload file (see the header).
    iso_node_set_sort_weight(reinterpret_cast<IsoNode*>(file), 0);
  }

  IsoWriteOpts* raw_opts = nullptr;
  rc = iso_write_opts_new(&raw_opts, 0);
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

  TempFile tmp(TempName(out_path));
  GITDISC_RETURN_IF_ERROR(tmp.Create());

  burn_source* raw_bs = nullptr;
  rc = iso_image_create_burn_source(image.get(), opts.get(), &raw_bs);
  if (rc < 0) return IsoError("iso_image_create_burn_source", rc);
  BurnSourcePtr bs(raw_bs);
  const uint64_t total = static_cast<uint64_t>(bs->get_size(bs.get()));
  uint64_t done = 0;
  uint64_t flushed = 0;
  constexpr uint64_t kFlushEvery = 8u << 20;
  constexpr int kChunk = 64 * static_cast<int>(kBlock);
  std::unique_ptr<unsigned char[]> buf(new unsigned char[kChunk]);
  Status write_status;
  while (true) {
    if (st.failed || done == total) break;
    // The ring buffer only hands out whole requests: never ask past the end.
    int want = static_cast<int>(std::min<uint64_t>(kChunk, total - done));
    int n = bs->read_xt(bs.get(), buf.get(), want);
    if (n < 0) {
      st.Fail(Status::Io("libisofs could not produce the image"));
      break;
    }
    if (n == 0) break;
    write_status = WriteAll(tmp.fd(), buf.get(), static_cast<size_t>(n), tmp.path());
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
