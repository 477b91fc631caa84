// PayloadStore: the agent's verified copies of payloads (docs/agent.md
// "Verified copies"). A payload runs only from a copy made here, never from
// the disc; the copy of the installed digest of each payload is kept, so a
// later uninstall or check needs no disc.
//
// Layout under the root (STATE/payloads; every folder 0755, owned by the
// agent's user, inside the agent's 0700 state dir):
//   <name>/<digest>/files/…          the copy; a payload's working directory
//   <name>/<digest>/manifest.json    its manifest entry, as a one-payload
//                                    manifest (iso/manifest.h)
//   <name>/installed                 the installed digest ("<digest>\n"),
//                                    replaced atomically (WriteFileAtomic)
//   <name>/.incoming-<digest>/       a copy being made (removed on failure)
//   <name>/.old-<digest>/            a copy being replaced by a fresh copy
//                                    of the same digest
// At rest each <name> holds its installed copy and nothing else. While an
// apply runs a new digest, both the installed and the new copy exist;
// Commit (the run succeeded) removes the old one, Discard (it failed)
// removes the new one. Prune, at start, finishes whatever a crash left half
// done.
//
// Not thread-safe: the agent calls it from one apply at a time.
#ifndef GITDISC_GUEST_PAYLOAD_STORE_H_
#define GITDISC_GUEST_PAYLOAD_STORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "iso/iso_reader.h"
#include "iso/manifest.h"

namespace gitdisc::guest {

// An installed copy, checked again against its kept manifest entry.
struct KeptPayload {
  std::string digest;
  std::string files_dir;
  iso::ManifestPayload entry;
};

class PayloadStore {
 public:
  // Creates the root (0700) if missing. Does not prune: see Prune.
  static Result<std::unique_ptr<PayloadStore>> Open(const std::string& root);

  // Copies `payload` (an entry of `manifest`) off the disc through `reader`
  // into a fresh folder, hashing each file as it is written (a mismatch stops
  // the copy), then checks the copy again from the guest's file system
  // (VerifyPayloadCopy) and moves it into place as <name>/<digest>, atomically
  // replacing a copy of the same digest. Returns the files folder. On failure
  // (kCorrupt: the disc or copy does not match; kIo) nothing of the new copy
  // is left and existing copies are untouched.
  Result<std::string> Stage(const iso::IsoReader& reader, const iso::Manifest& manifest,
                            const iso::ManifestPayload& payload);

  // Makes <name>/<digest> the installed copy: syncs the file system, replaces
  // the `installed` pointer atomically, then removes every other copy of name.
  Status Commit(const std::string& name, const std::string& digest);
  // Removes <name>/<digest> unless it is the installed copy: a failed apply
  // never replaces the copy of the last good one.
  Status Discard(const std::string& name, const std::string& digest);

  std::optional<std::string> InstalledDigest(const std::string& name) const;
  bool Has(const std::string& name, const std::string& digest) const;
  std::string FilesDir(const std::string& name, const std::string& digest) const;
  // Payload names with a folder in the store, sorted.
  std::vector<std::string> Names() const;

  // The installed copy of name, re-verified: its manifest entry parses, names
  // this payload and digest, its digest recomputes, and the files match it
  // (VerifyPayloadCopy). kNotFound when nothing is installed; kCorrupt when
  // the copy was altered.
  Result<KeptPayload> Installed(const std::string& name) const;

  // Brings every <name> back to its at-rest state after a crash: the copy to
  // keep is `ledger_installed[name]` when that copy exists (the ledger saw its
  // run succeed), else the `installed` pointer's; a copy caught between the
  // two renames of a same-digest replacement is moved back. Everything else
  // (other digests, .incoming-*, .old-*, names with nothing installed) is
  // removed.
  Status Prune(const std::map<std::string, std::string>& ledger_installed);

  const std::string& root() const { return root_; }

 private:
  explicit PayloadStore(std::string root) : root_(std::move(root)) {}
  std::string NameDir(const std::string& name) const;
  Status Place(const std::string& incoming, const std::string& name, const std::string& digest);
  Status RemoveAllBut(const std::string& name, const std::string& keep);

  std::string root_;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PAYLOAD_STORE_H_
