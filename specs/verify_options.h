// VerifyOptions: which trusted keys a Source checks commit signatures
// against and which commits must verify (DESIGN.md §4 verification flags,
// §8 source.verify; docs/git-source.md "Signed commits"). Plain values, kept
// apart from the checkers (specs/signature_policy.h) so the config parser
// needs none of them.
#ifndef GITDISC_SPECS_VERIFY_OPTIONS_H_
#define GITDISC_SPECS_VERIFY_OPTIONS_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc::specs {

// tip: the commit that would be applied; all: also every commit since the
// last verified revision.
enum class VerifyMode { kTip, kAll };

// "tip" or "all"; kInvalid otherwise.
Result<VerifyMode> ParseVerifyMode(std::string_view text);
const char* VerifyModeName(VerifyMode mode);

struct VerifyOptions {
  std::string allowed_signers_file;  // SSH: git's allowed_signers format
  std::string gpg_keyring_file;      // OpenPGP: public keys (gpg --export)
  VerifyMode mode = VerifyMode::kTip;
  bool enabled() const { return !allowed_signers_file.empty() || !gpg_keyring_file.empty(); }
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_VERIFY_OPTIONS_H_
