// UnpackedArtifacts: the extracted trees of `file:`/`url:` payloads that say
// `unpack: true` (DESIGN.md §3), kept next to the artifact store's downloads
// and keyed by the archive's pinned sha256:
//
//   STATE/artifacts/<sha256>.unpacked/tree/        the extracted folder
//   STATE/artifacts/<sha256>.unpacked/files.json   its listing (paths, modes,
//                                                  sizes, sha256s)
//
// The archive comes from the ArtifactStore (so it is verified against the pin,
// downloaded once), is extracted by specs/archive_unpack.h (the safety rules:
// no absolute paths, no "..", no links leaving, size and entry bounds) into a
// temp folder beside the entry, listed by ListPayloadFolder (the rules of a
// payload folder: modes 0644/0755, symlinks inside, file-size and file-count
// limits), and renamed into place only when all of that succeeded: an entry
// exists whole or not at all, and a rebuild never extracts again. The
// listing is read back rather than recomputed, so an identity never depends
// on a tree someone may have touched since; the first Get(…, verify=true) in
// a process re-hashes the tree against it and extracts afresh on a mismatch.
//
// Payload identity of an unpacked payload (specs/payload_digest.h): the
// canonical digest over the *extracted* files, like a path: folder — not over
// the archive's pin plus a marker. The agent recomputes every payload digest
// from the disc's manifest (iso::RecomputePayloadDigest) and refuses a payload
// whose digest does not cover the files on the disc, so the identity has to be
// the files that are delivered. It changes when `unpack` flips (one archive
// file vs. its tree) and when a new pin brings different content; a new pin
// whose archive holds the very same tree (say, recompressed) keeps the
// identity, because the VM would get the same bytes. The price: the digest
// needs the archive, so planning (plan, diff, reconcile) fetches and extracts
// it once per sha256 — afterwards files.json answers without the network.
//
// Thread-safe: one mutex guards the in-process memo, another serialises the
// slow path (read, verify, extract) within the process, so no thread removes
// a tree another one is reading; two processes extracting the same archive at
// once each build their own temp folder, the first rename wins and the other
// is dropped.
#ifndef GITDISC_SPECS_UNPACKED_ARTIFACTS_H_
#define GITDISC_SPECS_UNPACKED_ARTIFACTS_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/lru_map.h"
#include "base/status.h"
#include "specs/archive_unpack.h"
#include "specs/artifact_store.h"
#include "specs/payload_content.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

struct UnpackedTree {
  std::string folder;              // the extracted tree on local disk
  std::vector<PayloadFile> files;  // sorted by path, as ListPayloadFolder gives them
};

class UnpackedArtifacts {
 public:
  // state_dir: where STATE/artifacts lives (the same as the store's).
  UnpackedArtifacts(std::shared_ptr<ArtifactStore> store, std::string state_dir,
                    UnpackLimits unpack_limits = {}, PayloadLimits payload_limits = {});

  // The tree of an unpacked file:/url: source, extracting it when it is not
  // there yet. verify: re-hash the kept tree against its listing once in this
  // process (the bundle builder asks for this; planning does not). Errors:
  // the store's (kCorrupt, kUnavailable, kNotFound…), kInvalid for an archive
  // that breaks a rule (the message names the entry), kIo.
  Result<UnpackedTree> Get(const PayloadSource& source, bool verify = false);

  // Where the entry of an archive with this sha256 lives (present or not).
  std::string EntryPath(const std::string& sha256) const;

 private:
  Result<std::vector<PayloadFile>> Load(const std::string& sha256) const;
  Result<std::vector<PayloadFile>> Extract(const PayloadSource& source, const std::string& sha256);
  Status CheckTree(const std::string& folder, const std::vector<PayloadFile>& files) const;

  const std::shared_ptr<ArtifactStore> store_;
  const std::string dir_;  // STATE/artifacts
  const UnpackLimits unpack_limits_;
  const PayloadLimits payload_limits_;
  std::mutex mu_;          // known_, verified_
  std::mutex extract_mu_;  // the slow path of Get
  // sha256 → listing, and the sha256s re-hashed in this process. Bounded:
  // any commit may name another archive.
  LruMap<std::string, std::vector<PayloadFile>> known_{64};
  LruMap<std::string, bool> verified_{256};
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_UNPACKED_ARTIFACTS_H_
