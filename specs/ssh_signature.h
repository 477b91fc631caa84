// SSH commit signatures (git's gpg.format=ssh), checked against an
// allowed_signers file.
//
// ParseSshSignature reads the armored SSHSIG blob (PROTOCOL.sshsig) only as
// far as needed to say who signed and for which namespace; the cryptography
// is ssh-keygen's: SshSignatureVerifier runs `ssh-keygen -Y verify -f FILE
// -I PRINCIPAL -n git -s SIG -Overify-time=COMMIT_TIME` with the signed bytes
// on stdin, as git itself does — an argv, no shell, a deadline, bounded
// output (base/subprocess.h).
//
// Principals are picked from the allowed_signers entries that list the
// signature's key (and whose namespaces allow "git"); when there are none and
// the file has cert-authority lines, `ssh-keygen -Y find-principals` is asked.
//
// SshSignatureVerifier is immutable after construction and safe to use from
// several threads at once (each check has its own temp folder and child).
#ifndef GITDISC_SPECS_SSH_SIGNATURE_H_
#define GITDISC_SPECS_SSH_SIGNATURE_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/allowed_signers.h"
#include "specs/git_repository.h"
#include "specs/signature_verdict.h"

namespace gitdisc::specs {

inline constexpr std::string_view kSshSignatureBegin = "-----BEGIN SSH SIGNATURE-----";
inline constexpr std::string_view kGitSshNamespace = "git";

struct SshSignature {
  std::string public_key;  // the signer's public key blob (SSH wire format)
  std::string name_space;  // what the signature was made for ("git" for commits)
  std::string hash_algorithm;
};

// kInvalid when `armored` is not a well-formed armored SSHSIG (version 1).
Result<SshSignature> ParseSshSignature(std::string_view armored);

struct SshVerifierOptions {
  std::string ssh_keygen = "ssh-keygen";  // path, or a name searched in PATH
  std::chrono::milliseconds timeout{10'000};
};

class SshSignatureVerifier {
 public:
  SshSignatureVerifier(AllowedSigners signers, SshVerifierOptions options = {});

  // The verdict on a commit signed with an SSH signature (the caller has
  // seen the armor). Never "verified" unless ssh-keygen said so.
  SignatureVerdict Verify(const CommitSignatureData& commit) const;

  const AllowedSigners& signers() const { return signers_; }

 private:
  // Runs ssh-keygen -Y verify for each principal until one succeeds.
  SignatureVerdict Check(const CommitSignatureData& commit, const std::string& sig_file,
                         const std::vector<std::string>& principals) const;
  Result<std::vector<std::string>> FindPrincipals(const std::string& sig_file) const;

  AllowedSigners signers_;
  SshVerifierOptions options_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SSH_SIGNATURE_H_
