// BearerMatches: whether an `Authorization` header carries `Bearer <token>`
// for one of the configured API tokens. Compared in constant time through
// SHA-256 digests, so neither the value nor its length leaks through timing.
// Pure; thread-safe.
#ifndef GITDISC_SERVE_BEARER_AUTH_H_
#define GITDISC_SERVE_BEARER_AUTH_H_

#include <optional>
#include <string_view>

#include "serve/serve_config.h"

namespace gitdisc::serve {

bool BearerMatches(std::string_view authorization, const std::optional<Secret>& token);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_BEARER_AUTH_H_
