#include "specs/verify_options.h"

namespace gitdisc::specs {

Result<VerifyMode> ParseVerifyMode(std::string_view text) {
  if (text == "tip") return VerifyMode::kTip;
  if (text == "all") return VerifyMode::kAll;
  return Status::Invalid("verification mode must be 'tip' or 'all', not '" + std::string(text) +
                         "'");
}

const char* VerifyModeName(VerifyMode mode) { return mode == VerifyMode::kAll ? "all" : "tip"; }

}  // namespace gitdisc::specs
