// PlanEndpoint: GET /api/v1/plan[?rev=REV], the dry-run plan of a revision
// against the live fleet (DESIGN.md §8). A plan is real work — the specs of
// the revision are loaded and hashed and every selected VM is observed — so
// the endpoint is guarded:
//   - it needs a token: `Authorization: Bearer T` with the API token
//     (api.tokenFile) or the read token (api.readTokenFile), which allows
//     reads only; with neither configured it answers 404;
//   - answers are cached per resolved commit for `cache_ttl` (and per REV
//     as asked, for the same time), at most `cache_entries` of them, least
//     recently used out first; a cached answer costs nothing;
//   - plans not in the cache are rate-limited (token bucket over all
//     callers: `burst` at once, `per_second` on average; beyond: 429 with
//     Retry-After) and computed one at a time (a second one meanwhile: 503
//     with Retry-After), so the endpoint holds at most one HTTP worker.
//
// Thread-safe.
#ifndef GITDISC_SERVE_PLAN_ENDPOINT_H_
#define GITDISC_SERVE_PLAN_ENDPOINT_H_

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/lru_map.h"
#include "reconciler/controller_api.h"
#include "serve/rate_limiter.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

struct PlanEndpointOptions {
  std::optional<Secret> api_token;
  std::optional<Secret> read_token;
  std::chrono::milliseconds cache_ttl{10000};
  size_t cache_entries = 64;
  double per_second = 0.2;  // 12 new plans a minute
  double burst = 4;
};

struct PlanAnswer {
  int status = 200;
  nlohmann::json body;
  int retry_after_seconds = 0;  // > 0: send Retry-After
  bool cached = false;
};

class PlanEndpoint {
 public:
  // controller and clock must outlive the endpoint.
  PlanEndpoint(PlanEndpointOptions options, reconciler::ControllerApi* controller,
               const Clock* clock);

  // authorization: the Authorization header ("" when absent); rev: the rev
  // parameter when given.
  PlanAnswer Handle(std::string_view authorization, const std::optional<std::string>& rev);

  bool enabled() const { return options_.api_token || options_.read_token; }

 private:
  struct Entry {
    PlanAnswer answer;
    Clock::TimePoint at;
  };
  std::optional<PlanAnswer> Cached(const std::string& key);
  void Store(const std::string& key, const PlanAnswer& answer);
  std::string KeyFor(const std::string& rev) const;
  PlanAnswer Compute(const std::string& rev, const std::string& key);

  const PlanEndpointOptions options_;
  reconciler::ControllerApi* controller_;
  const Clock* clock_;
  TokenBucket bucket_;
  std::mutex cache_mu_;
  LruMap<std::string, Entry> cache_;
  std::mutex compute_mu_;  // one plan at a time
};

// A revision argument: a hex id or a ref-like name, bounded, without option
// or range syntax (it is handed to libgit2's revparse only).
bool ValidRevisionArgument(const std::string& rev);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_PLAN_ENDPOINT_H_
