// Source: the Git repository gitdisc follows, as the reconciler and the CLI
// see it (DESIGN.md §1, §7 "Revisions").
//
// For (repo, branch, spec path, state dir) a Source fetches the remote into
// its mirror (remotes only), reports the branch's newest revision and its
// newest *valid* revision — walking back from the tip over first parents, for
// at most walkback_budget per call, to the first commit that passes signature
// verification (when SourceOptions::verify names trusted keys; the specs of a
// refused commit are never read) and whose specs load without errors and
// whose payload folders can be listed — together with the diagnostics of
// every newer invalid commit (an invalid commit is never partially applied).
// Each newest valid revision found is recorded as a verified anchor
// (STATE/verified/, see specs/signature_policy.h). Load() gives one revision
// as a Snapshot: the loaded
// sets plus each payload's content listing, identity digest and bytes.
//
// Caches: Snapshots are memoised per commit (the 8 most recently used),
// validity per commit (256), payload folder listings per Git tree id (memory,
// bounded, + STATE/digests), url: artifacts in STATE/artifacts, and the
// extracted trees of unpack: true artifacts beside them.
//
// A Source is used by one thread at a time (the controller loop or a CLI
// command). Snapshots are immutable, shared, and safe to use from any thread
// (also after the Source is gone).
#ifndef GITDISC_SPECS_SOURCE_H_
#define GITDISC_SPECS_SOURCE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/lru_map.h"
#include "base/status.h"
#include "specs/artifact_store.h"
#include "specs/git_library.h"
#include "specs/git_repository.h"
#include "specs/git_tree.h"
#include "specs/payload_cache.h"
#include "specs/payload_content.h"
#include "specs/signature_policy.h"
#include "specs/signature_verdict.h"
#include "specs/spec_loader.h"
#include "specs/spec_types.h"
#include "specs/unpacked_artifacts.h"

namespace gitdisc::specs {

struct SourceOptions {
  std::string repo = ".";  // local path or URL (see git_repository.h)
  std::string branch;      // "" → the remote's HEAD / the local HEAD branch
  std::string spec_path;   // folder of the specs inside the repo; "" → root
  std::string state_dir;   // STATE: mirrors/, digests/, artifacts/
  std::chrono::seconds fetch_timeout{120};
  bool fetch_on_open = true;  // remotes: fetch once in Open
  bool pull_requests = false;  // remotes: also fetch pull/merge request heads (previews)
  // Time one State() may spend walking back past invalid commits. Validity is
  // memoised per commit, so a walk cut short goes further at the next call.
  std::chrono::milliseconds walkback_budget{30'000};
  PayloadLimits payload_limits;
  ArtifactLimits artifact_limits;
  UnpackLimits unpack_limits;  // archives of unpack: true artifacts
  ArtifactPolicy artifact_policy;  // file: roots, http: (none / https only by default)
  GitCredentials credentials;  // usually GitCredentials::FromEnvironment()
  LoadOptions load_options;
  // Signed commits only (off unless a trusted key file is given).
  VerifyOptions verify;
};

// One revision: its specs and access to its payloads.
class Snapshot {
 public:
  const std::string& revision() const { return revision_; }  // 40 hex
  int64_t commit_time() const;
  const std::string& spec_path() const { return spec_path_; }
  const RepoTree& tree() const { return *tree_; }
  // Sets, diagnostics and ignored documents. Sets are only complete when valid().
  const SpecLoad& load() const { return load_; }
  // Every diagnostic: the loader's plus payload folders that could not be
  // listed (located at the payload).
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  bool valid() const;

  // The folder of a path: payload inside the tree (spec path + path).
  std::string PayloadFolder(const Payload& payload) const;
  // Content of a payload. path: → listing from Git (cached by tree id).
  // file:/url: → the artifact is verified (url: downloaded once) so its size
  // and local path are known; errors: kCorrupt on digest mismatch,
  // kUnavailable / kNotFound when it cannot be fetched.
  Result<PayloadContent> Content(const Payload& payload) const;
  // The identity digest alone. For file:/url: it is computed from the pinned
  // digest, without touching the artifact (no download) — except with
  // unpack, whose identity is the extracted tree: the archive is fetched and
  // extracted once per sha256 (specs/unpacked_artifacts.h), then its kept
  // listing answers.
  Result<std::string> Digest(const Payload& payload) const;
  // The content digest alone (same rule for file:/url:).
  Result<std::string> ContentDigestOf(const Payload& payload) const;
  // The bytes of one file of `content` (a Git blob, or the local artifact).
  // For a symlink, its target. Large artifacts are better streamed from
  // content.local_path directly.
  Result<std::string> ReadFile(const PayloadContent& content, const PayloadFile& file) const;

  struct Parts;  // built by Source
  explicit Snapshot(Parts parts);

 private:
  Result<std::vector<PayloadFile>> Files(const Payload& payload) const;

  std::string revision_;
  std::string spec_path_;
  std::shared_ptr<const GitTree> tree_;
  SpecLoad load_;
  std::vector<Diagnostic> diagnostics_;
  std::shared_ptr<PayloadContentCache> cache_;
  std::shared_ptr<ArtifactStore> artifacts_;
  std::shared_ptr<UnpackedArtifacts> unpacked_;
};

// A commit newer than the newest valid revision that failed validation or
// signature verification.
struct InvalidRevision {
  std::string revision;  // 40 hex
  std::string summary;   // first line of the commit message
  std::vector<Diagnostic> diagnostics;
  // Set when refused for its signature (then its specs were never read);
  // signature->commit may name an older commit (mode all).
  std::optional<SignatureVerdict> signature;
};

// The diagnostic a refused signature shows as, located at the commit:
// "commit 1a2b3c4: error: signature: unsigned: …".
Diagnostic SignatureDiagnostic(const SignatureVerdict& verdict);

struct SourceState {
  std::string branch;                    // the branch followed (resolved when defaulted)
  std::string tip;                       // its newest revision
  std::string newest_valid;              // "" when none was found (see walkback_exhausted)
  std::vector<InvalidRevision> invalid;  // newer than newest_valid, newest first
  // The walk ran out of walkback_budget before it found a valid commit (as
  // opposed to reaching the first commit of the branch).
  bool walkback_exhausted = false;
  Status fetch_status;                   // not ok: the fetch failed; tip is the mirror's last known
  bool tip_valid() const { return !tip.empty() && tip == newest_valid; }
};

class Source {
 public:
  // Opens the repository (mirroring and fetching a remote when
  // options.fetch_on_open). Fails like GitRepository::Open.
  static Result<std::unique_ptr<Source>> Open(const GitLibrary& lib, SourceOptions options);

  // Fetches a remote (no-op for local repos); on failure the last known
  // revisions stay available.
  Status Fetch();
  // Fetch() and State(): what the daemon calls on each poll. A fetch failure
  // is reported in SourceState::fetch_status, not as an error.
  Result<SourceState> Poll();
  // Tip and newest valid revision from what is known locally.
  Result<SourceState> State();

  // The signature verdict on applying a revision ("" → the tip) under
  // options().verify; verified without looking when verification is off.
  // Does not record an anchor.
  Result<SignatureVerdict> Verify(std::string_view rev);
  bool verifying() const { return signatures_ != nullptr; }

  // Full SHA of a revision expression; "" → the branch tip.
  Result<std::string> Resolve(std::string_view rev) const;
  // Loads (or returns the memoised) Snapshot of a revision ("" → the tip).
  // Errors only when the revision is unknown or the repository cannot be
  // read; invalid specs give a Snapshot with valid() false.
  Result<std::shared_ptr<const Snapshot>> Load(std::string_view rev);

  // One line for stderr when a local working tree has uncommitted changes
  // below the spec path (they are never read), else nullopt.
  std::optional<std::string> DirtyTreeNote() const;

  const SourceOptions& options() const { return options_; }
  GitRepository& repository() { return *repo_; }
  PayloadContentCache& content_cache() { return *cache_; }
  ArtifactStore& artifacts() { return *artifacts_; }

 private:
  Source(SourceOptions options, std::unique_ptr<GitRepository> repo);

  SourceOptions options_;
  std::unique_ptr<GitRepository> repo_;
  std::shared_ptr<PayloadContentCache> cache_;
  std::shared_ptr<ArtifactStore> artifacts_;
  std::shared_ptr<UnpackedArtifacts> unpacked_;
  // Keyed by commits anyone may ask for (diff --rev, /api/v1/plan?rev=):
  // bounded, least recently used out first.
  LruMap<std::string, std::shared_ptr<const Snapshot>> snapshots_{8};
  LruMap<std::string, std::vector<Diagnostic>> validity_{256};  // sha → errors (empty: valid)
  std::unique_ptr<SignaturePolicy> signatures_;                  // null: verification off
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SOURCE_H_
