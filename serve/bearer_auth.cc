#include "serve/bearer_auth.h"

#include "base/sha256.h"

namespace gitdisc::serve {

bool BearerMatches(std::string_view authorization, const std::optional<Secret>& token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!token || token->empty()) return false;
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer) {
    return false;
  }
  return ConstantTimeEquals(Sha256Hex(authorization.substr(kBearer.size())),
                            Sha256Hex(token->Reveal()));
}

}  // namespace gitdisc::serve
