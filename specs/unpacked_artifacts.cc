#include "specs/unpacked_artifacts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <utility>
#include <variant>

#include "base/ascii.h"
#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/folder_tree.h"
#include "specs/payload_cache.h"

namespace gitdisc::specs {
namespace {

constexpr char kTree[] = "tree";
constexpr char kListing[] = "files.json";
constexpr uint64_t kMaxListingBytes = 256ull << 20;

std::string PinnedSha(const PayloadSource& source) {
  if (const auto* f = std::get_if<FileSource>(&source)) return AsciiLower(f->sha256);
  if (const auto* u = std::get_if<UrlSource>(&source)) return AsciiLower(u->sha256);
  return "";
}

}  // namespace

UnpackedArtifacts::UnpackedArtifacts(std::shared_ptr<ArtifactStore> store, std::string state_dir,
                                     UnpackLimits unpack_limits, PayloadLimits payload_limits)
    : store_(std::move(store)),
      dir_(JoinPath(state_dir, "artifacts")),
      unpack_limits_(unpack_limits),
      payload_limits_(payload_limits) {}

std::string UnpackedArtifacts::EntryPath(const std::string& sha256) const {
  return JoinPath(dir_, AsciiLower(sha256) + ".unpacked");
}

Result<UnpackedTree> UnpackedArtifacts::Get(const PayloadSource& source, bool verify) {
  if (!IsUnpacked(source)) return Status::Invalid("not an artifact with unpack: true");
  const std::string sha = PinnedSha(source);
  if (!IsSha256Hex(sha)) return Status::Invalid("unpacked artifact: sha256 is not 64 hex digits");
  const std::string entry = EntryPath(sha);
  const std::string folder = JoinPath(entry, kTree);
  {
    std::lock_guard<std::mutex> l(mu_);
    const auto* hit = known_.Find(sha);
    if (hit != nullptr && (!verify || verified_.Contains(sha))) return UnpackedTree{folder, *hit};
  }
  std::lock_guard<std::mutex> slow(extract_mu_);
  auto files = Load(sha);
  if (files.ok() && verify && !CheckTree(folder, *files).ok()) {
    files = Status::Corrupt("the kept tree changed");
  }
  if (!files.ok()) {
    // Missing, torn or touched: extract afresh from the verified archive.
    if (PathExists(entry)) GITDISC_RETURN_IF_ERROR(RemoveAll(entry));
    files = Extract(source, sha);
    if (!files.ok()) return files.status();
  }
  std::lock_guard<std::mutex> memo(mu_);
  known_.Put(sha, *files);
  if (verify) verified_.Put(sha, true);
  return UnpackedTree{folder, std::move(files).value()};
}

Result<std::vector<PayloadFile>> UnpackedArtifacts::Load(const std::string& sha256) const {
  auto text = ReadFile(JoinPath(EntryPath(sha256), kListing), kMaxListingBytes);
  if (!text.ok()) return text.status();
  return DecodeFileList(*text, sha256);
}

Status UnpackedArtifacts::CheckTree(const std::string& folder,
                                    const std::vector<PayloadFile>& files) const {
  GITDISC_ASSIGN_OR_RETURN(std::unique_ptr<RepoTree> tree, OpenFolderTree(folder));
  GITDISC_ASSIGN_OR_RETURN(std::vector<PayloadFile> now,
                           ListPayloadFolder(*tree, "", payload_limits_));
  if (now != files) return Status::Corrupt("the kept tree does not match its listing");
  return Status::Ok();
}

Result<std::vector<PayloadFile>> UnpackedArtifacts::Extract(const PayloadSource& source,
                                                            const std::string& sha256) {
  GITDISC_ASSIGN_OR_RETURN(LocalArtifact archive, store_->Get(source));
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir_, 0700));
  const std::string entry = EntryPath(sha256);
  std::random_device rd;
  const std::string staging =
      entry + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  if (::mkdir(staging.c_str(), 0700) != 0) {
    return Status::FromErrno("unpacked artifact: create " + staging, errno);
  }
  auto built = [&]() -> Result<std::vector<PayloadFile>> {
    const std::string folder = JoinPath(staging, kTree);
    GITDISC_RETURN_IF_ERROR(UnpackArchive(archive.path, folder, unpack_limits_));
    GITDISC_ASSIGN_OR_RETURN(std::unique_ptr<RepoTree> tree, OpenFolderTree(folder));
    GITDISC_ASSIGN_OR_RETURN(std::vector<PayloadFile> files,
                             ListPayloadFolder(*tree, "", payload_limits_));
    if (files.empty()) return Status::Invalid("the archive holds no files");
    GITDISC_ASSIGN_OR_RETURN(std::string listing, EncodeFileList(files, sha256));
    GITDISC_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(staging, kListing), listing, 0600));
    return files;
  }();
  if (!built.ok()) {
    (void)RemoveAll(staging);
    return built.status();
  }
  if (::rename(staging.c_str(), entry.c_str()) != 0) {
    int err = errno;
    (void)RemoveAll(staging);
    // Someone else finished the same archive first: theirs is as good.
    if (err != EEXIST && err != ENOTEMPTY) {
      return Status::FromErrno("unpacked artifact: rename " + staging, err);
    }
  }
  return built;
}

}  // namespace gitdisc::specs
