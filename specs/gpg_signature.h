// OpenPGP commit signatures, checked with gpgme (GnuPG) against the public
// keys of one keyring file — never the user's own keyring.
//
// Open() makes an isolated GnuPG home (a private temp folder) and imports
// the keyring file into it (binary or ASCII-armored; `gpg --export` of the
// trusted keys). Every key in that file is trusted, whatever its owner trust:
// the file is the allow list. A good signature by a revoked or expired key,
// or an expired signature, is refused. gpgme works offline (no key servers).
// Each check has a deadline; past it the operation is cancelled and the
// verdict is a transient error.
//
// The destructor stops any GnuPG daemon started for that home and removes it.
// A GpgSignatureVerifier is safe to use from several threads (checks are
// serialised on its one gpgme context).
#ifndef GITDISC_SPECS_GPG_SIGNATURE_H_
#define GITDISC_SPECS_GPG_SIGNATURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "specs/git_repository.h"
#include "specs/signature_verdict.h"

namespace gitdisc::specs {

inline constexpr std::string_view kPgpSignatureBegin = "-----BEGIN PGP SIGNATURE-----";

class GpgSignatureVerifier {
 public:
  // kInvalid when the file holds no OpenPGP public key; kUnavailable when
  // GnuPG cannot be run; file errors as they come.
  static Result<std::unique_ptr<GpgSignatureVerifier>> Open(
      const std::string& keyring_file,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
  ~GpgSignatureVerifier();
  GpgSignatureVerifier(const GpgSignatureVerifier&) = delete;
  GpgSignatureVerifier& operator=(const GpgSignatureVerifier&) = delete;

  // The verdict on a commit whose signature is OpenPGP armor.
  SignatureVerdict Verify(const CommitSignatureData& commit) const;

  const std::string& keyring_file() const;
  int key_count() const;

  struct Impl;

 private:
  explicit GpgSignatureVerifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GPG_SIGNATURE_H_
