#include "guest/payload_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "guest/payload_copy.h"
#include "iso/bundle.h"

namespace gitdisc::guest {
namespace {

constexpr char kInstalled[] = "installed";
constexpr char kIncoming[] = ".incoming-";
constexpr char kOld[] = ".old-";
constexpr char kFiles[] = "files";
constexpr char kEntry[] = "manifest.json";
constexpr uint64_t kMaxEntryBytes = 64ull << 20;

bool IsDigest(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The names in a folder; none when it cannot be read.
std::vector<std::string> List(const std::string& dir) {
  auto names = ListFolder(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + path, errno);
  // Not what the umask allows: the folder a payload runs from is 0755.
  if (::chmod(path.c_str(), 0755) != 0) return Status::FromErrno("chmod " + path, errno);
  return Status::Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::FromErrno("rename " + from + " to " + to, errno);
  }
  return Status::Ok();
}

// Folders ExtractPayload made get 0755 whatever the umask was.
Status NormaliseFolders(const std::string& dir) {
  if (::chmod(dir.c_str(), 0755) != 0) return Status::FromErrno("chmod " + dir, errno);
  for (const auto& n : List(dir)) {
    std::string p = JoinPath(dir, n);
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      GITDISC_RETURN_IF_ERROR(NormaliseFolders(p));
    }
  }
  return Status::Ok();
}

// The whole file system: a kept copy must survive a power loss before the
// pointer names it.
void SyncFileSystemOf(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::syncfs(fd.get());
}

}  // namespace

Result<std::unique_ptr<PayloadStore>> PayloadStore::Open(const std::string& root) {
  GITDISC_RETURN_IF_ERROR(MakeDirs(root, 0700));
  return std::unique_ptr<PayloadStore>(new PayloadStore(root));
}

std::string PayloadStore::NameDir(const std::string& name) const { return JoinPath(root_, name); }

std::string PayloadStore::FilesDir(const std::string& name, const std::string& digest) const {
  return JoinPath(JoinPath(NameDir(name), digest), kFiles);
}

bool PayloadStore::Has(const std::string& name, const std::string& digest) const {
  struct stat st;
  return ::lstat(FilesDir(name, digest).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<std::string> PayloadStore::InstalledDigest(const std::string& name) const {
  auto text = ReadFile(JoinPath(NameDir(name), kInstalled), 256);
  if (!text.ok()) return std::nullopt;
  std::string d = *text;
  while (!d.empty() && d.back() == '\n') d.pop_back();
  if (!IsDigest(d)) return std::nullopt;
  return d;
}

std::vector<std::string> PayloadStore::Names() const {
  std::vector<std::string> out;
  for (const auto& n : List(root_)) {
    if (iso::IsValidPayloadName(n)) out.push_back(n);
  }
  return out;
}

Result<std::string> PayloadStore::Stage(const iso::IsoReader& reader, const iso::Manifest& manifest,
                                        const iso::ManifestPayload& payload) {
  const std::string& name = payload.name;
  const std::string& digest = payload.digest;
  if (!iso::IsValidPayloadName(name) || !IsDigest(digest)) {
    return Status::Invalid("payload " + name + ": bad name or digest");
  }
  std::string name_dir = NameDir(name);
  if (!PathExists(name_dir)) GITDISC_RETURN_IF_ERROR(MakeDir(name_dir));
  std::string incoming = JoinPath(name_dir, kIncoming + digest);
  GITDISC_RETURN_IF_ERROR(RemoveAll(incoming));
  GITDISC_RETURN_IF_ERROR(MakeDir(incoming));
  auto fail = [&](Status s) {
    (void)RemoveAll(incoming);
    if (!InstalledDigest(name) && List(name_dir).empty()) ::rmdir(name_dir.c_str());
    return s;
  };
  std::string files = JoinPath(incoming, kFiles);
  Status st = reader.ExtractPayload(manifest, name, files);
  if (st.ok()) st = NormaliseFolders(files);
  if (st.code() == Status::Code::kCorrupt) {
    return fail(st.Annotate("payload " + name + ": the disc does not match its manifest"));
  }
  if (!st.ok()) return fail(st.Annotate("copy payload " + name));

  iso::Manifest entry;
  entry.digest = iso::ComputeBundleDigest({digest});
  entry.revision = manifest.revision;
  entry.payloads = {payload};
  st = WriteFileAtomic(JoinPath(incoming, kEntry), iso::RenderManifest(entry), 0644);
  if (st.ok()) st = VerifyPayloadCopy(files, payload);
  if (st.ok()) st = Place(incoming, name, digest);
  if (!st.ok()) return fail(st);
  return FilesDir(name, digest);
}

Status PayloadStore::Place(const std::string& incoming, const std::string& name,
                           const std::string& digest) {
  std::string target = JoinPath(NameDir(name), digest);
  if (!PathExists(target)) return Rename(incoming, target);
  // A copy of this digest is there already (the installed one, re-applied):
  // swap in one step where the file system can, so a crash leaves one or the
  // other, never neither.
  if (::renameat2(AT_FDCWD, incoming.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    return RemoveAll(incoming);  // now the old copy
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return Status::FromErrno("exchange " + incoming + " and " + target, errno);
  }
  // ramfs and friends: two renames; Prune moves .old-* back after a crash
  // between them.
  std::string old = JoinPath(NameDir(name), kOld + digest);
  GITDISC_RETURN_IF_ERROR(RemoveAll(old));
  GITDISC_RETURN_IF_ERROR(Rename(target, old));
  GITDISC_RETURN_IF_ERROR(Rename(incoming, target));
  return RemoveAll(old);
}

Status PayloadStore::Commit(const std::string& name, const std::string& digest) {
  if (!Has(name, digest)) return Status::NotFound("no copy of payload " + name + " at " + digest);
  SyncFileSystemOf(root_);
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(NameDir(name), kInstalled), digest + "\n"));
  return RemoveAllBut(name, digest);
}

Status PayloadStore::Discard(const std::string& name, const std::string& digest) {
  std::optional<std::string> installed = InstalledDigest(name);
  if (installed == digest) return Status::Ok();
  if (!installed) return RemoveAll(NameDir(name));
  return RemoveAll(JoinPath(NameDir(name), digest));
}

Status PayloadStore::RemoveAllBut(const std::string& name, const std::string& keep) {
  Status result = Status::Ok();
  for (const auto& entry : List(NameDir(name))) {
    if (entry == keep || entry == kInstalled) continue;
    Status s = RemoveAll(JoinPath(NameDir(name), entry));
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

Result<KeptPayload> PayloadStore::Installed(const std::string& name) const {
  std::optional<std::string> digest = InstalledDigest(name);
  if (!digest) return Status::NotFound("payload " + name + " has no kept copy");
  std::string where = JoinPath(NameDir(name), *digest);
  GITDISC_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(where, kEntry), kMaxEntryBytes));
  auto manifest = iso::ParseManifest(text);
  if (!manifest.ok()) return manifest.status().Annotate(where);
  if (manifest->payloads.size() != 1 || manifest->payloads[0].name != name ||
      manifest->payloads[0].digest != *digest ||
      iso::RecomputePayloadDigest(manifest->payloads[0]) != *digest) {
    return Status::Corrupt(where + ": the kept manifest entry does not name this payload");
  }
  KeptPayload kept{*digest, JoinPath(where, kFiles), manifest->payloads[0]};
  GITDISC_RETURN_IF_ERROR(VerifyPayloadCopy(kept.files_dir, kept.entry));
  return kept;
}

Status PayloadStore::Prune(const std::map<std::string, std::string>& ledger_installed) {
  Status result = Status::Ok();
  auto note = [&](Status s) {
    if (!s.ok() && result.ok()) result = s;
  };
  for (const auto& name : List(root_)) {
    std::string dir = NameDir(name);
    struct stat st;
    if (!iso::IsValidPayloadName(name) || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      note(RemoveAll(dir));
      continue;
    }
    std::optional<std::string> keep = InstalledDigest(name);
    if (auto it = ledger_installed.find(name); it != ledger_installed.end()) {
      std::string old = JoinPath(dir, kOld + it->second);
      if (!Has(name, it->second) && PathExists(old)) {
        note(Rename(old, JoinPath(dir, it->second)));
      }
      if (Has(name, it->second)) keep = it->second;
    }
    if (keep && !Has(name, *keep)) {
      std::string old = JoinPath(dir, kOld + *keep);
      if (PathExists(old)) note(Rename(old, JoinPath(dir, *keep)));
    }
    if (!keep || !Has(name, *keep)) {
      note(RemoveAll(dir));
      continue;
    }
    if (InstalledDigest(name) != keep) {
      note(WriteFileAtomic(JoinPath(dir, kInstalled), *keep + "\n"));
    }
    note(RemoveAllBut(name, *keep));
  }
  return result;
}

}  // namespace gitdisc::guest
