// SignatureVerdict: what checking one commit's signature found (DESIGN.md §4
// verification flags, docs/git-source.md "Signed commits"): verified by a
// trusted key, or the reason it is not — unsigned, unknown key, bad
// signature, wrong namespace, a format no trusted key set covers, or an
// error running the check (fail closed: an error is never "verified").
// A value type.
#ifndef GITDISC_SPECS_SIGNATURE_VERDICT_H_
#define GITDISC_SPECS_SIGNATURE_VERDICT_H_

#include <string>

namespace gitdisc::specs {

enum class SignatureProblem {
  kNone,          // verified
  kUnsigned,      // no signature at all
  kUnknownKey,    // signed by a key that is not trusted
  kBadSignature,  // the signature does not match the commit (or is malformed, or the key expired)
  kNamespace,     // an SSH signature made for another namespace than "git"
  kUnsupported,   // a format with no trusted keys configured (e.g. OpenPGP without a keyring)
  kError,         // the check itself could not run (ssh-keygen missing, deadline)
};

// "unsigned", "unknown key", "bad signature", "namespace", "unsupported", "error".
const char* SignatureProblemName(SignatureProblem p);

struct SignatureVerdict {
  std::string commit;  // 40 hex: the commit whose signature this is
  SignatureProblem problem = SignatureProblem::kNone;
  std::string format;  // "ssh", "openpgp", "x509", "" when unsigned
  std::string signer;  // SSH principal or OpenPGP user id, when known
  std::string key;     // SSH "SHA256:…" or OpenPGP fingerprint, when known
  std::string detail;  // one line for people
  // An error that may pass (a deadline, a helper that could not start): the
  // verdict is not remembered, the next look checks again.
  bool transient = false;

  bool verified() const { return problem == SignatureProblem::kNone; }
  // "unsigned", "unknown key SHA256:…: not in FILE", "bad signature: …", …
  std::string Reason() const;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_SIGNATURE_VERDICT_H_
