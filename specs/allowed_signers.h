// AllowedSigners: git's allowed_signers file (gpg.ssh.allowedSignersFile;
// ssh-keygen(1) "ALLOWED SIGNERS"), read so gitdisc can check it up front
// with located errors and pick the principals whose key made a signature.
// The cryptography stays with ssh-keygen (specs/ssh_signature.h).
//
// One entry per line: `principals [options] keytype base64-key [comment]`.
// principals: comma-separated patterns, optionally in double quotes. options:
// cert-authority, namespaces="a,b", valid-after="…", valid-before="…".
// Empty lines and lines starting with '#' are skipped.
//
// Immutable after parsing; safe to share between threads.
#ifndef GITDISC_SPECS_ALLOWED_SIGNERS_H_
#define GITDISC_SPECS_ALLOWED_SIGNERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc::specs {

struct AllowedSigner {
  int line = 0;
  std::vector<std::string> principals;  // patterns, as written
  bool cert_authority = false;
  std::vector<std::string> namespaces;  // empty: every namespace
  std::string key_type;                 // e.g. ssh-ed25519
  std::string key_blob;                 // the decoded public key (SSH wire format)

  bool AllowsNamespace(std::string_view ns) const;
};

class AllowedSigners {
 public:
  // Every problem as "FILE:LINE: error: MESSAGE" (all of them, one per line
  // in the message), kInvalid. A file without any entry is an error too: it
  // would refuse every commit.
  static Result<AllowedSigners> Parse(std::string_view text, const std::string& file);
  // Reads (at most 1 MiB) and parses `path`.
  static Result<AllowedSigners> Load(const std::string& path);

  const std::string& file() const { return file_; }
  const std::vector<AllowedSigner>& entries() const { return entries_; }
  // Entries listing exactly this public key (cert-authority entries excluded:
  // those match certificates, which ssh-keygen resolves).
  std::vector<const AllowedSigner*> ForKey(std::string_view key_blob) const;
  bool HasCertAuthorities() const;

 private:
  std::string file_;
  std::vector<AllowedSigner> entries_;
};

// "SHA256:<base64 without padding>" of a public key blob, as ssh-keygen -l
// prints it.
std::string SshFingerprint(std::string_view key_blob);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_ALLOWED_SIGNERS_H_
