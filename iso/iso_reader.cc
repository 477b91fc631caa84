#include "iso/iso_reader.h"

#include <cdio/iso9660.h>
#include <cdio/logging.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "base/file_util.h"
#include "base/write_all.h"
#include "base/sha256.h"
#include "iso/bundle.h"

namespace gitdisc::iso {

struct IsoReader::Handle {
  iso9660_t* iso = nullptr;
  ~Handle() {
    if (iso) iso9660_close(iso);
  }
};

namespace {

constexpr uint32_t kBlock = 2048;
constexpr size_t kMaxEntries = 2000000;
constexpr int kMaxDepth = 128;
constexpr uint32_t kMaxDirBytes = 64u << 20;
constexpr int kMaxContinuations = 64;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxPathBytes = 8192;
constexpr size_t kReadChunkBlocks = 512;  // 1 MiB

uint32_t Le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

Status Corrupt(const std::string& where, const std::string& what) {
  return Status::Corrupt(where + ": " + what);
}

// What the Rock Ridge fields of one directory record said.
struct RockRidge {
  bool has_name = false;
  std::string name;
  bool has_mode = false;
  uint32_t mode = 0;
  bool has_symlink = false;
  std::string symlink;
  bool symlink_continues = false;  // last SL component had the CONTINUE flag
  bool relocated = false;          // RE: the real entry is elsewhere
  bool child_link = false;         // CL: relocated folder (never written by gitdisc)
};

}  // namespace

const char* IsoEntryTypeName(IsoEntry::Type type) {
  switch (type) {
    case IsoEntry::Type::kFile:
      return "file";
    case IsoEntry::Type::kDir:
      return "folder";
    case IsoEntry::Type::kSymlink:
      return "symlink";
  }
  return "?";
}

IsoReader::~IsoReader() = default;

namespace {
const char* libcdio_log_program = "gitdisc";
void LibcdioLog(cdio_log_level_t level, const char* message) {
  if (level < CDIO_LOG_WARN) return;
  std::fprintf(stderr, "%s: libcdio: %s\n", libcdio_log_program, message);
}
}  // namespace

void RouteLibcdioLogs(const char* program) {
  libcdio_log_program = program;
  cdio_log_set_handler(LibcdioLog);
}

Result<std::unique_ptr<IsoReader>> IsoReader::Open(const std::string& path,
                                                   const IsoOpenOptions& options) {
  auto deadline = std::chrono::steady_clock::now() + options.retry_for;
  Status last;
  while (true) {
    std::unique_ptr<IsoReader> r(new IsoReader());
    r->path_ = path;
    r->handle_ = std::make_unique<Handle>();
    r->handle_->iso = iso9660_open(path.c_str());
    if (!r->handle_->iso) {
      struct stat st;
      last = ::stat(path.c_str(), &st) != 0 ? Status::FromErrno("open " + path, errno)
                                            : Status::Io("open " + path + ": cannot read it");
    } else {
      last = r->Index();
      if (last.ok()) return r;
    }
    // A malformed image does not get better by waiting; an unreadable one may.
    if (last.code() == Status::Code::kCorrupt && r->handle_->iso && r->volume_blocks_ > 0) {
      return last;
    }
    if (std::chrono::steady_clock::now() + options.retry_interval > deadline) return last;
    std::this_thread::sleep_for(options.retry_interval);
  }
}

Status IsoReader::ReadBlocks(uint32_t lba, uint32_t count, char* out) const {
  if (volume_blocks_ && (uint64_t(lba) + count > volume_blocks_)) {
    return Corrupt(path_, "block " + std::to_string(lba) + "+" + std::to_string(count) +
                              " is past the end of the volume");
  }
  std::lock_guard<std::mutex> l(mu_);
  long got = iso9660_iso_seek_read(handle_->iso, out, static_cast<lsn_t>(lba), count);
  if (got != static_cast<long>(count) * kBlock) {
    return Status::Io(path_ + ": cannot read blocks " + std::to_string(lba) + "+" +
                      std::to_string(count));
  }
  return Status::Ok();
}

Status IsoReader::Index() {
  iso9660_pvd_t pvd;
  if (!iso9660_ifs_read_pvd(handle_->iso, &pvd)) {
    // Either not an ISO 9660 image or not readable yet (fresh media).
    char probe[kBlock];
    if (!ReadBlocks(16, 1, probe).ok()) return Status::Io(path_ + ": cannot read the volume");
    return Corrupt(path_, "no ISO 9660 primary volume descriptor");
  }
  unsigned char vd[kBlock];
  GITDISC_RETURN_IF_ERROR(ReadBlocks(16, 1, reinterpret_cast<char*>(vd)));
  if (vd[0] != 1 || std::memcmp(vd + 1, "CD001", 5) != 0) {
    return Corrupt(path_, "no ISO 9660 primary volume descriptor");
  }
  volume_blocks_ = Le32(vd + 80);
  if (volume_blocks_ < 17) return Corrupt(path_, "volume too small");
  std::string vid(reinterpret_cast<char*>(vd + 40), 32);
  while (!vid.empty() && (vid.back() == ' ' || vid.back() == '\0')) vid.pop_back();
  volume_id_ = vid;
  const unsigned char* root = vd + 156;
  if (root[0] < 34) return Corrupt(path_, "bad root directory record");
  uint32_t root_lba = Le32(root + 2);
  uint32_t root_bytes = Le32(root + 10);
  entries_.clear();
  std::vector<uint32_t> stack;
  GITDISC_RETURN_IF_ERROR(ParseDir(root_lba, root_bytes, "", 0, &stack));
  std::sort(entries_.begin(), entries_.end(),
            [](const IsoEntry& a, const IsoEntry& b) { return a.path < b.path; });
  return Status::Ok();
}

namespace {

// Parses the System Use area [p, p+len) of one record into rr; queues a
// continuation area (CE) in *ce_*.
Status ParseSusp(const unsigned char* p, size_t len, const std::string& where, RockRidge* rr,
                 bool* has_ce, uint32_t* ce_lba, uint32_t* ce_off, uint32_t* ce_len) {
  size_t i = 0;
  while (i + 4 <= len) {
    const unsigned char* e = p + i;
    unsigned elen = e[2];
    if (elen < 4 || i + elen > len) break;  // padding or garbage: stop, as the kernel does
    char s0 = static_cast<char>(e[0]), s1 = static_cast<char>(e[1]);
    if (s0 == 'N' && s1 == 'M' && elen >= 5) {
      unsigned flags = e[4];
      if (!(flags & 0x06)) {
        rr->name.append(reinterpret_cast<const char*>(e + 5), elen - 5);
        rr->has_name = true;
        if (rr->name.size() > kMaxNameBytes) return Corrupt(where, "Rock Ridge name too long");
      }
    } else if (s0 == 'P' && s1 == 'X' && elen >= 36) {
      rr->mode = Le32(e + 4);
      rr->has_mode = true;
    } else if (s0 == 'S' && s1 == 'L' && elen >= 5) {
      rr->has_symlink = true;
      size_t j = 5;
      while (j + 2 <= elen) {
        unsigned cflags = e[j], clen = e[j + 1];
        if (j + 2 + clen > elen) return Corrupt(where, "bad symlink component");
        std::string comp;
        if (cflags & 0x02) {
          comp = ".";
        } else if (cflags & 0x04) {
          comp = "..";
        } else if (cflags & 0x08) {
          comp = "/";
        } else {
          comp.assign(reinterpret_cast<const char*>(e + j + 2), clen);
        }
        if (!rr->symlink.empty() && !rr->symlink_continues && rr->symlink != "/") {
          rr->symlink += '/';
        }
        rr->symlink += comp;
        rr->symlink_continues = (cflags & 0x01) != 0;
        if (rr->symlink.size() > 4096) return Corrupt(where, "symlink target too long");
        j += 2 + clen;
      }
    } else if (s0 == 'C' && s1 == 'E' && elen >= 28) {
      *has_ce = true;
      *ce_lba = Le32(e + 4);
      *ce_off = Le32(e + 12);
      *ce_len = Le32(e + 20);
    } else if (s0 == 'R' && s1 == 'E') {
      rr->relocated = true;
    } else if (s0 == 'C' && s1 == 'L') {
      rr->child_link = true;
    } else if (s0 == 'S' && s1 == 'T') {
      break;
    }
    i += elen;
  }
  return Status::Ok();
}

bool NameOk(const std::string& n) {
  return !n.empty() && n != "." && n != ".." && n.size() <= kMaxNameBytes &&
         n.find('/') == std::string::npos && n.find('\0') == std::string::npos;
}

}  // namespace

Status IsoReader::ParseDir(uint32_t lba, uint32_t bytes, const std::string& prefix, int depth,
                           std::vector<uint32_t>* stack) {
  std::string where = path_ + ":/" + prefix;
  if (depth > kMaxDepth) return Corrupt(where, "folders nested too deeply");
  if (bytes > kMaxDirBytes) return Corrupt(where, "folder record too large");
  if (std::find(stack->begin(), stack->end(), lba) != stack->end()) {
    return Corrupt(where, "folder loop");
  }
  uint32_t nblocks = (bytes + kBlock - 1) / kBlock;
  std::string buf(size_t(nblocks) * kBlock, '\0');
  if (nblocks) GITDISC_RETURN_IF_ERROR(ReadBlocks(lba, nblocks, buf.data()));
  const auto* d = reinterpret_cast<const unsigned char*>(buf.data());

  std::vector<IsoEntry> children;
  std::vector<std::pair<uint32_t, uint32_t>> subdirs;  // lba, bytes; parallel to dir children
  bool pending = false;  // the last child continues in the next record (multi-extent)
  std::string pending_iso_name;

  size_t off = 0;
  while (off < bytes) {
    size_t block_end = (off / kBlock + 1) * kBlock;
    unsigned rec_len = d[off];
    if (rec_len == 0) {  // rest of this block is padding
      off = block_end;
      continue;
    }
    if (rec_len < 34 || off + rec_len > block_end) return Corrupt(where, "bad directory record");
    const unsigned char* r = d + off;
    uint32_t extent = Le32(r + 2);
    uint32_t data_len = Le32(r + 10);
    unsigned flags = r[25];
    unsigned name_len = r[32];
    if (33 + name_len > rec_len) return Corrupt(where, "bad directory record name");
    std::string iso_name(reinterpret_cast<const char*>(r + 33), name_len);
    off += rec_len;
    if (name_len == 1 && (iso_name[0] == '\0' || iso_name[0] == '\1')) continue;  // . and ..

    size_t su_start = 33 + name_len + ((name_len % 2 == 0) ? 1 : 0);
    RockRidge rr;
    bool has_ce = false;
    uint32_t ce_lba = 0, ce_off = 0, ce_len = 0;
    if (su_start < rec_len) {
      GITDISC_RETURN_IF_ERROR(ParseSusp(r + su_start, rec_len - su_start, where, &rr, &has_ce,
                                        &ce_lba, &ce_off, &ce_len));
    }
    for (int hops = 0; has_ce; ++hops) {
      if (hops >= kMaxContinuations) return Corrupt(where, "too many continuation areas");
      if (ce_off >= kBlock || ce_len > kBlock - ce_off) return Corrupt(where, "bad continuation");
      char cb[kBlock];
      GITDISC_RETURN_IF_ERROR(ReadBlocks(ce_lba, 1, cb));
      has_ce = false;
      GITDISC_RETURN_IF_ERROR(ParseSusp(reinterpret_cast<const unsigned char*>(cb) + ce_off, ce_len,
                                        where, &rr, &has_ce, &ce_lba, &ce_off, &ce_len));
    }
    if (rr.relocated) continue;
    if (rr.child_link) return Corrupt(where, "relocated folders (RR_MOVED) are not supported");

    bool is_dir = (flags & 0x02) != 0;
    if (pending && iso_name == pending_iso_name && !is_dir) {
      // Next extent of a multi-extent file.
      IsoEntry& e = children.back();
      e.extents.push_back({extent, data_len});
      e.size += data_len;
      pending = (flags & 0x80) != 0;
      continue;
    }
    if (pending) return Corrupt(where, "multi-extent file ends abruptly");

    std::string name;
    if (rr.has_name) {
      name = rr.name;
    } else {
      name = iso_name;
      size_t semi = name.find(';');
      if (semi != std::string::npos) name.resize(semi);
      if (!name.empty() && name.back() == '.') name.pop_back();
    }
    if (!NameOk(name)) return Corrupt(where, "bad file name \"" + name + "\"");
    IsoEntry e;
    e.path = prefix.empty() ? name : prefix + "/" + name;
    if (e.path.size() > kMaxPathBytes) return Corrupt(where, "path too long");
    if (rr.has_symlink) {
      e.type = IsoEntry::Type::kSymlink;
      e.symlink_target = rr.symlink;
      e.size = rr.symlink.size();
      e.mode = rr.has_mode ? rr.mode : (kModeSymlink | 0777);
    } else if (is_dir) {
      e.type = IsoEntry::Type::kDir;
      e.mode = rr.has_mode ? rr.mode : 040555;
      subdirs.push_back({extent, data_len});
    } else {
      e.type = IsoEntry::Type::kFile;
      e.mode = rr.has_mode ? rr.mode : (kModeRegular | 0444);
      e.size = data_len;
      if (data_len > 0) e.extents.push_back({extent, data_len});
      pending = (flags & 0x80) != 0;
      pending_iso_name = iso_name;
    }
    children.push_back(std::move(e));
    if (entries_.size() + children.size() > kMaxEntries) return Corrupt(where, "too many entries");
  }
  if (pending) return Corrupt(where, "multi-extent file ends abruptly");

  // Reject duplicate names within a folder (a hostile disc could shadow files).
  std::set<std::string> seen;
  for (const IsoEntry& e : children) {
    if (!seen.insert(e.path).second) return Corrupt(where, "\"" + e.path + "\" twice");
    for (const IsoEntry::Extent& x : e.extents) {
      if (uint64_t(x.lba) + (uint64_t(x.bytes) + kBlock - 1) / kBlock > volume_blocks_) {
        return Corrupt(where, "\"" + e.path + "\" lies past the end of the volume");
      }
    }
  }
  stack->push_back(lba);
  size_t sub = 0;
  for (IsoEntry& e : children) {
    bool dir = e.type == IsoEntry::Type::kDir;
    std::string child_path = e.path;
    entries_.push_back(std::move(e));
    if (dir) {
      auto [clba, cbytes] = subdirs[sub++];
      GITDISC_RETURN_IF_ERROR(ParseDir(clba, cbytes, child_path, depth + 1, stack));
    }
  }
  stack->pop_back();
  return Status::Ok();
}

const IsoEntry* IsoReader::Find(std::string_view path) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                             [](const IsoEntry& e, std::string_view p) { return e.path < p; });
  if (it == entries_.end() || it->path != path) return nullptr;
  return &*it;
}

Status IsoReader::ReadFile(const IsoEntry& entry,
                           const std::function<Status(std::string_view chunk)>& sink) const {
  if (entry.type != IsoEntry::Type::kFile) {
    return Status::Invalid(entry.path + " is not a regular file");
  }
  std::string buf(kReadChunkBlocks * kBlock, '\0');
  for (const IsoEntry::Extent& x : entry.extents) {
    uint64_t left = x.bytes;
    uint32_t lba = x.lba;
    while (left > 0) {
      uint32_t blocks =
          static_cast<uint32_t>(std::min<uint64_t>(kReadChunkBlocks, (left + kBlock - 1) / kBlock));
      GITDISC_RETURN_IF_ERROR(ReadBlocks(lba, blocks, buf.data()));
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, uint64_t(blocks) * kBlock));
      GITDISC_RETURN_IF_ERROR(sink(std::string_view(buf.data(), n)));
      left -= n;
      lba += blocks;
    }
  }
  return Status::Ok();
}

Result<std::string> IsoReader::ReadFileToString(std::string_view path, uint64_t max_bytes) const {
  const IsoEntry* e = Find(path);
  if (!e) return Status::NotFound(path_ + ": no /" + std::string(path));
  if (e->type != IsoEntry::Type::kFile) {
    return Status::Corrupt(path_ + ": /" + std::string(path) + " is not a regular file");
  }
  if (e->size > max_bytes) {
    return Status::Corrupt(path_ + ": /" + std::string(path) + " is larger than " +
                           std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  out.reserve(static_cast<size_t>(e->size));
  GITDISC_RETURN_IF_ERROR(ReadFile(*e, [&](std::string_view c) {
    out.append(c);
    return Status::Ok();
  }));
  return out;
}

Result<Manifest> IsoReader::ReadManifest() const {
  GITDISC_ASSIGN_OR_RETURN(std::string text, ReadFileToString(kManifestName, kMaxManifestBytes));
  auto m = ParseManifest(text);
  if (!m.ok()) return m.status().Annotate(path_);
  return m;
}

Result<VerifyReport> IsoReader::Verify() const { return Check(/*read_contents=*/true); }

Result<VerifyReport> IsoReader::VerifyLayout() const { return Check(/*read_contents=*/false); }

Result<VerifyReport> IsoReader::Check(bool read_contents) const {
  VerifyReport report;
  GITDISC_ASSIGN_OR_RETURN(report.manifest, ReadManifest());
  const Manifest& m = report.manifest;
  if (volume_id_ != VolumeIdForDigest(m.digest)) {
    report.mismatches.push_back(
        {"(volume)", "volume ID " + volume_id_ + " does not name bundle " + m.digest});
  }
  std::set<std::string> expected = {kManifestName, kPayloadRoot};
  for (const ManifestPayload& p : m.payloads) {
    std::string base = std::string(kPayloadRoot) + "/" + p.name;
    expected.insert(base);
    const IsoEntry* pdir = Find(base);
    if (!pdir || pdir->type != IsoEntry::Type::kDir) {
      report.missing.push_back({base, "payload folder missing"});
    }
    for (const ManifestFile& f : p.files) {
      std::string path = base + "/" + f.path;
      expected.insert(path);
      // Parent folders are implied by the files.
      for (size_t s = f.path.find('/'); s != std::string::npos; s = f.path.find('/', s + 1)) {
        expected.insert(base + "/" + f.path.substr(0, s));
      }
      const IsoEntry* e = Find(path);
      if (!e) {
        report.missing.push_back({path, "missing"});
        continue;
      }
      IsoEntry::Type want = f.is_symlink() ? IsoEntry::Type::kSymlink : IsoEntry::Type::kFile;
      if (e->type != want) {
        report.mismatches.push_back({path, std::string("is a ") + IsoEntryTypeName(e->type) +
                                               ", expected a " + IsoEntryTypeName(want)});
        continue;
      }
      if (e->mode != f.mode) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "mode %o, expected %o", e->mode, f.mode);
        report.mismatches.push_back({path, buf});
        continue;
      }
      if (e->size != f.size) {
        report.mismatches.push_back(
            {path, "size " + std::to_string(e->size) + ", expected " + std::to_string(f.size)});
        continue;
      }
      std::string digest;
      if (want == IsoEntry::Type::kSymlink) {
        digest = Sha256Hex(e->symlink_target);
      } else if (!read_contents) {
        continue;
      } else {
        Sha256Hasher h;
        Status st = ReadFile(*e, [&](std::string_view c) {
          h.Update(c);
          return Status::Ok();
        });
        if (!st.ok()) {
          report.mismatches.push_back({path, "unreadable: " + st.message()});
          continue;
        }
        digest = h.FinishHex();
      }
      if (digest != f.sha256) {
        report.mismatches.push_back({path, "sha256 " + digest + ", expected " + f.sha256});
      }
    }
  }
  for (const IsoEntry& e : entries_) {
    if (!expected.count(e.path)) {
      report.extra.push_back(
          {e.path, std::string(IsoEntryTypeName(e.type)) + " not in the manifest"});
    }
  }
  return report;
}

Status IsoReader::ExtractPayload(const Manifest& manifest, std::string_view name,
                                 const std::string& dest_dir) const {
  const ManifestPayload* p = manifest.FindPayload(name);
  if (!p) return Status::NotFound("payload " + std::string(name) + " is not in the manifest");
  bool created_root = false;
  if (::mkdir(dest_dir.c_str(), 0755) == 0) {
    created_root = true;
  } else if (errno != EEXIST) {
    return Status::FromErrno("mkdir " + dest_dir, errno);
  }
  // Removes what this call created when it fails half-way.
  std::vector<std::string> created;
  auto cleanup = [&]() {
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      if (::unlink(it->c_str()) != 0) ::rmdir(it->c_str());
    }
    if (created_root) ::rmdir(dest_dir.c_str());
  };
  auto fail = [&](Status s) {
    cleanup();
    return s;
  };
  std::string base = std::string(kPayloadRoot) + "/" + p->name;
  for (const ManifestFile& f : p->files) {
    // Manifest paths are validated (relative, no ".."), and no listed path
    // lies below another listed file, so no path below crosses a symlink we
    // made; folders are created one level at a time without following links.
    std::string rel;
    for (size_t s = f.path.find('/'); s != std::string::npos; s = f.path.find('/', s + 1)) {
      std::string dir = JoinPath(dest_dir, f.path.substr(0, s));
      if (::mkdir(dir.c_str(), 0755) == 0) {
        created.push_back(dir);
      } else {
        struct stat st;
        if (errno != EEXIST || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
          return fail(Status::FromErrno("mkdir " + dir, errno ? errno : ENOTDIR));
        }
      }
    }
    std::string src = base + "/" + f.path;
    std::string dst = JoinPath(dest_dir, f.path);
    const IsoEntry* e = Find(src);
    if (!e) return fail(Status::Corrupt(path_ + ": /" + src + " is missing"));
    if (f.is_symlink()) {
      if (e->type != IsoEntry::Type::kSymlink || Sha256Hex(e->symlink_target) != f.sha256) {
        return fail(Status::Corrupt(path_ + ": /" + src + " does not match the manifest"));
      }
      if (::symlink(e->symlink_target.c_str(), dst.c_str()) != 0) {
        return fail(Status::FromErrno("symlink " + dst, errno));
      }
      created.push_back(dst);
      continue;
    }
    if (e->type != IsoEntry::Type::kFile || e->size != f.size) {
      return fail(Status::Corrupt(path_ + ": /" + src + " does not match the manifest"));
    }
    int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail(Status::FromErrno("create " + dst, errno));
    created.push_back(dst);
    Sha256Hasher h;
    Status st = ReadFile(*e, [&](std::string_view c) {
      h.Update(c);
      return WriteAll(fd, c, dst);
    });
    if (st.ok() && ::fchmod(fd, f.mode & 0777) != 0) st = Status::FromErrno("chmod " + dst, errno);
    if (::close(fd) != 0 && st.ok()) st = Status::FromErrno("close " + dst, errno);
    if (!st.ok()) return fail(st);
    std::string digest = h.FinishHex();
    if (digest != f.sha256) {
      return fail(Status::Corrupt(path_ + ": /" + src + " has sha256 " + digest + ", expected " +
                                  f.sha256));
    }
  }
  return Status::Ok();
}

}  // namespace gitdisc::iso
