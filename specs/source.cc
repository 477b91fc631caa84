#include "specs/source.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/payload_digest.h"

namespace gitdisc::specs {
namespace {

std::string JoinTreePath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "/" + std::string(b);
}

bool HasErrors(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::kError;
  });
}

// The errors of a loaded revision: none means it is valid.
std::vector<Diagnostic> ErrorsOf(const Snapshot& snap) {
  std::vector<Diagnostic> errors;
  for (const Diagnostic& d : snap.diagnostics()) {
    if (d.severity == Diagnostic::Severity::kError) errors.push_back(d);
  }
  return errors;
}

}  // namespace

Diagnostic SignatureDiagnostic(const SignatureVerdict& verdict) {
  Diagnostic d;
  d.pos.file = "commit " + verdict.commit.substr(0, 7);
  d.message = "signature: " + verdict.Reason();
  return d;
}

struct Snapshot::Parts {
  std::string revision;
  std::string spec_path;
  std::shared_ptr<const GitTree> tree;
  SpecLoad load;
  std::vector<Diagnostic> diagnostics;
  std::shared_ptr<PayloadContentCache> cache;
  std::shared_ptr<ArtifactStore> artifacts;
  std::shared_ptr<UnpackedArtifacts> unpacked;
};

Snapshot::Snapshot(Parts parts)
    : revision_(std::move(parts.revision)),
      spec_path_(std::move(parts.spec_path)),
      tree_(std::move(parts.tree)),
      load_(std::move(parts.load)),
      diagnostics_(std::move(parts.diagnostics)),
      cache_(std::move(parts.cache)),
      artifacts_(std::move(parts.artifacts)),
      unpacked_(std::move(parts.unpacked)) {}

int64_t Snapshot::commit_time() const { return tree_->CommitTime(); }

bool Snapshot::valid() const { return load_.ok() && !HasErrors(diagnostics_); }

std::string Snapshot::PayloadFolder(const Payload& payload) const {
  const auto* p = std::get_if<PathSource>(&payload.source);
  return p == nullptr ? std::string() : JoinTreePath(spec_path_, p->path);
}

Result<std::vector<PayloadFile>> Snapshot::Files(const Payload& payload) const {
  if (std::holds_alternative<PathSource>(payload.source)) {
    return cache_->List(*tree_, PayloadFolder(payload));
  }
  if (IsUnpacked(payload.source)) {
    auto tree = unpacked_->Get(payload.source);
    if (!tree.ok()) return tree.status().Annotate("payload '" + payload.name + "'");
    return std::move(tree->files);
  }
  return std::vector<PayloadFile>{ArtifactPayloadFile(payload.source)};
}

Result<std::string> Snapshot::Digest(const Payload& payload) const {
  GITDISC_ASSIGN_OR_RETURN(std::vector<PayloadFile> files, Files(payload));
  return PayloadDigest(payload, files);
}

Result<std::string> Snapshot::ContentDigestOf(const Payload& payload) const {
  GITDISC_ASSIGN_OR_RETURN(std::vector<PayloadFile> files, Files(payload));
  return ContentDigest(files);
}

Result<PayloadContent> Snapshot::Content(const Payload& payload) const {
  PayloadContent c;
  if (std::holds_alternative<PathSource>(payload.source)) {
    GITDISC_ASSIGN_OR_RETURN(c.files, Files(payload));
    c.tree_folder = PayloadFolder(payload);
  } else if (IsUnpacked(payload.source)) {
    auto tree = unpacked_->Get(payload.source, /*verify=*/true);
    if (!tree.ok()) return tree.status().Annotate("payload '" + payload.name + "'");
    c.files = std::move(tree->files);
    c.local_folder = std::move(tree->folder);
  } else {
    auto local = artifacts_->Get(payload.source);
    if (!local.ok()) return local.status().Annotate("payload '" + payload.name + "'");
    c.files = {ArtifactPayloadFile(payload.source, local->size)};
    c.local_path = local->path;
  }
  c.digest = PayloadDigest(payload, c.files);
  c.content_digest = ContentDigest(c.files);
  return c;
}

Result<std::string> Snapshot::ReadFile(const PayloadContent& content,
                                       const PayloadFile& file) const {
  if (file.is_symlink()) return file.symlink_target;
  if (!content.local_path.empty() || !content.local_folder.empty()) {
    const std::string path = content.local_path.empty()
                                 ? JoinPath(content.local_folder, file.path)
                                 : content.local_path;
    auto data = gitdisc::ReadFile(path, file.size);
    if (!data.ok()) return data.status();
    if (Sha256Hex(*data) != file.sha256) {
      return Status::Corrupt(path + " changed since it was verified");
    }
    return data;
  }
  return tree_->ReadFile(JoinTreePath(content.tree_folder, file.path), file.size);
}

Source::Source(SourceOptions options, std::unique_ptr<GitRepository> repo)
    : options_(std::move(options)),
      repo_(std::move(repo)),
      cache_(std::make_shared<PayloadContentCache>(options_.state_dir, options_.payload_limits)),
      artifacts_(std::make_shared<ArtifactStore>(options_.state_dir, options_.artifact_limits,
                                                 options_.artifact_policy)),
      unpacked_(std::make_shared<UnpackedArtifacts>(artifacts_, options_.state_dir,
                                                    options_.unpack_limits,
                                                    options_.payload_limits)) {}

Result<std::unique_ptr<Source>> Source::Open(const GitLibrary& lib, SourceOptions options) {
  GitOpenOptions go;
  go.state_dir = options.state_dir;
  go.fetch_timeout = options.fetch_timeout;
  go.fetch = options.fetch_on_open;
  go.pull_requests = options.pull_requests;
  go.credentials = options.credentials;
  std::unique_ptr<SignaturePolicy> signatures;
  if (options.verify.enabled()) {
    // Anchors per followed branch of a repository, beside the mirrors.
    std::string anchors =
        options.state_dir.empty()
            ? std::string()
            : JoinPath(options.state_dir,
                       "verified/" + MirrorName(options.repo + "\n" + options.branch));
    GITDISC_ASSIGN_OR_RETURN(signatures, SignaturePolicy::Open(options.verify, anchors));
  }
  GITDISC_ASSIGN_OR_RETURN(std::unique_ptr<GitRepository> repo,
                           GitRepository::Open(lib, options.repo, go));
  auto source = std::unique_ptr<Source>(new Source(std::move(options), std::move(repo)));
  source->signatures_ = std::move(signatures);
  return source;
}

Result<SignatureVerdict> Source::Verify(std::string_view rev) {
  GITDISC_ASSIGN_OR_RETURN(std::string sha, Resolve(rev));
  if (signatures_ == nullptr) {
    SignatureVerdict v;
    v.commit = sha;
    v.detail = "not checked (verification is off)";
    return v;
  }
  return signatures_->VerifyRevision(*repo_, sha);
}

Status Source::Fetch() { return repo_->Fetch(); }

Result<std::string> Source::Resolve(std::string_view rev) const {
  if (rev.empty()) return repo_->BranchTip(options_.branch);
  return repo_->ResolveRevision(rev);
}

Result<std::shared_ptr<const Snapshot>> Source::Load(std::string_view rev) {
  GITDISC_ASSIGN_OR_RETURN(std::string sha, Resolve(rev));
  if (auto* hit = snapshots_.Find(sha)) {
    if (!validity_.Contains(sha)) validity_.Put(sha, ErrorsOf(**hit));
    return *hit;
  }

  GITDISC_ASSIGN_OR_RETURN(std::unique_ptr<GitTree> tree, repo_->TreeAt(sha));
  Snapshot::Parts parts;
  parts.revision = sha;
  parts.spec_path = options_.spec_path;
  parts.tree = std::shared_ptr<const GitTree>(std::move(tree));
  parts.cache = cache_;
  parts.artifacts = artifacts_;
  parts.unpacked = unpacked_;
  GITDISC_ASSIGN_OR_RETURN(parts.load,
                           LoadSpecs(*parts.tree, options_.spec_path, options_.load_options));
  parts.diagnostics = parts.load.diagnostics;
  if (parts.load.ok()) {
    // Every path: payload must list: size limits, symlink loops, and
    // anything the loader's own folder checks let through.
    for (const PayloadSet& set : parts.load.sets) {
      for (const Payload& p : set.payloads) {
        if (!std::holds_alternative<PathSource>(p.source)) continue;
        std::string folder = JoinTreePath(options_.spec_path, std::get<PathSource>(p.source).path);
        auto files = cache_->List(*parts.tree, folder);
        if (!files.ok()) parts.diagnostics.push_back(LocateError(p, files.status()));
      }
    }
  }
  auto snap = std::make_shared<const Snapshot>(std::move(parts));
  validity_.Put(sha, ErrorsOf(*snap));
  snapshots_.Put(sha, snap);
  return std::shared_ptr<const Snapshot>(snap);
}

Result<SourceState> Source::State() {
  SourceState st;
  st.fetch_status = repo_->fetch_status();
  if (options_.branch.empty()) {
    auto def = repo_->DefaultBranch();
    st.branch = def.ok() ? *def : "HEAD";
  } else {
    st.branch = options_.branch;
  }
  GITDISC_ASSIGN_OR_RETURN(st.tip, repo_->BranchTip(options_.branch));
  std::string sha = st.tip;
  const auto deadline = std::chrono::steady_clock::now() + options_.walkback_budget;
  for (bool first = true; !sha.empty(); first = false) {
    // The tip is always examined; older commits while the budget lasts.
    if (!first && std::chrono::steady_clock::now() >= deadline) {
      st.walkback_exhausted = true;
      break;
    }
    std::optional<SignatureVerdict> refused;
    if (signatures_ != nullptr) {
      // Before the specs: the YAML of an unverified commit is never parsed.
      GITDISC_ASSIGN_OR_RETURN(SignatureVerdict v, signatures_->VerifyRevision(*repo_, sha));
      if (!v.verified()) refused = std::move(v);
    }
    const std::vector<Diagnostic>* known = refused ? nullptr : validity_.Find(sha);
    if (!refused && known == nullptr) {
      GITDISC_ASSIGN_OR_RETURN(auto snap, Load(sha));
      (void)snap;
      known = validity_.Find(sha);
      if (known == nullptr) return Status::Internal("validity of " + sha + " not recorded");
    }
    if (!refused && known->empty()) {
      st.newest_valid = sha;
      break;
    }
    GITDISC_ASSIGN_OR_RETURN(CommitInfo info, repo_->Commit(sha));
    InvalidRevision inv{sha, info.summary, {}, std::nullopt};
    if (refused) {
      inv.diagnostics.push_back(SignatureDiagnostic(*refused));
      inv.signature = std::move(refused);
    } else {
      inv.diagnostics = *known;
    }
    st.invalid.push_back(std::move(inv));
    sha = info.parents.empty() ? std::string() : info.parents.front();
  }
  if (signatures_ != nullptr && !st.newest_valid.empty()) {
    signatures_->RecordVerified(st.newest_valid);
  }
  return st;
}

Result<SourceState> Source::Poll() {
  (void)Fetch();  // remembered in fetch_status; the mirror keeps the last known refs
  return State();
}

std::optional<std::string> Source::DirtyTreeNote() const {
  // Only the spec path matters: payload folders live below it too, and
  // unrelated edits elsewhere in a bigger repository are not worth a note.
  auto changes = repo_->UncommittedChanges(3, options_.spec_path);
  if (!changes.ok() || changes->empty()) return std::nullopt;
  std::string list;
  for (const std::string& c : *changes) list += (list.empty() ? "" : ", ") + c;
  if (changes->size() >= 3) list += ", …";
  return "note: " + repo_->location() + " has uncommitted changes (" + list +
         "); gitdisc reads committed revisions only";
}

}  // namespace gitdisc::specs
