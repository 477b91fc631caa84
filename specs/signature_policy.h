// SignaturePolicy: which commits must carry a trusted signature before a
// revision may be applied (DESIGN.md §4 verification flags, §8
// `source.verify`; docs/git-source.md "Signed commits").
//
// Trusted keys: an SSH allowed_signers file (specs/ssh_signature.h) and/or an
// OpenPGP keyring file (specs/gpg_signature.h); a commit's signature goes to
// the checker of its format, and a format without trusted keys is refused.
//
// Modes:
//   tip  the revision itself must verify (the commit that would be applied);
//   all  the revision and every commit since the last verified revisions
//        (git rev-list REV ^ANCHOR…) must verify, merged-in commits
//        included. Anchors are revisions accepted earlier (in either mode),
//        the 16 most recent, kept in memory and in `anchor_file` so a restart
//        does not have to walk the history again. Without any anchor, the
//        whole history of the revision must verify. At most 1000 commits are
//        checked per revision; more is refused.
//
// Verdicts of single commits are remembered (a commit and the trusted keys do
// not change under a running policy), except transient errors.
//
// A SignaturePolicy is used by one thread at a time (its Source's).
#ifndef GITDISC_SPECS_SIGNATURE_POLICY_H_
#define GITDISC_SPECS_SIGNATURE_POLICY_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/git_repository.h"
#include "specs/signature_verdict.h"
#include "specs/verify_options.h"

namespace gitdisc::specs {

class SshSignatureVerifier;
class GpgSignatureVerifier;

class SignaturePolicy {
 public:
  // Loads the trusted keys. kInvalid for a malformed allowed_signers file
  // (every problem located) or a keyring without keys; file errors as they
  // come. `anchor_file` "" keeps anchors in memory only.
  static Result<std::unique_ptr<SignaturePolicy>> Open(const VerifyOptions& options,
                                                       std::string anchor_file);
  ~SignaturePolicy();
  SignaturePolicy(const SignaturePolicy&) = delete;
  SignaturePolicy& operator=(const SignaturePolicy&) = delete;

  // The verdict on applying `sha` under the mode. In mode all a refusal
  // names the first offending commit (newest first), which may be older than
  // `sha`. Errors only when the repository cannot be read.
  Result<SignatureVerdict> VerifyRevision(const GitRepository& repo, const std::string& sha);
  // The verdict on one commit's own signature.
  Result<SignatureVerdict> VerifyCommit(const GitRepository& repo, const std::string& sha);
  // Remembers `sha` as an accepted revision (an anchor for mode all).
  void RecordVerified(const std::string& sha);

  const VerifyOptions& options() const { return options_; }
  const std::vector<std::string>& anchors() const { return anchors_; }

 private:
  explicit SignaturePolicy(VerifyOptions options);

  VerifyOptions options_;
  std::string anchor_file_;
  std::unique_ptr<SshSignatureVerifier> ssh_;
  std::unique_ptr<GpgSignatureVerifier> gpg_;
  std::map<std::string, SignatureVerdict> verdicts_;  // sha → settled verdict
  std::vector<std::string> anchors_;                  // newest first
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SIGNATURE_POLICY_H_
