#include "serve/plan_endpoint.h"

#include <algorithm>
#include <cctype>

#include "base/ascii.h"
#include "base/sha256.h"
#include "serve/bearer_auth.h"

namespace gitdisc::serve {
namespace {

using nlohmann::json;

bool IsFullCommitId(const std::string& rev) {
  return rev.size() == 40 && std::all_of(rev.begin(), rev.end(), [](unsigned char c) {
           return std::isxdigit(c) != 0;
         });
}

int HttpStatusOf(Status::Code code) {
  switch (code) {
    case Status::Code::kNotFound: return 404;
    case Status::Code::kInvalid: return 422;
    case Status::Code::kUnavailable:
    case Status::Code::kTimeout: return 503;
    default: return 500;
  }
}

PlanAnswer Error(int status, const std::string& message, int retry_after = 0) {
  PlanAnswer a;
  a.status = status;
  a.body = {{"error", message}};
  a.retry_after_seconds = retry_after;
  return a;
}

}  // namespace

bool ValidRevisionArgument(const std::string& rev) {
  if (rev.empty() || rev.size() > 200 || rev[0] == '-') return false;
  if (rev.find("..") != std::string::npos) return false;
  return std::all_of(rev.begin(), rev.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '/' || c == '_' || c == '-' || c == '.' || c == '~' || c == '^';
  });
}

PlanEndpoint::PlanEndpoint(PlanEndpointOptions options, reconciler::ControllerApi* controller,
                           const Clock* clock)
    : options_(std::move(options)),
      controller_(controller),
      clock_(clock),
      bucket_(options_.per_second, options_.burst, clock),
      cache_(options_.cache_entries) {}

std::optional<PlanAnswer> PlanEndpoint::Cached(const std::string& key) {
  std::lock_guard<std::mutex> l(cache_mu_);
  Entry* e = cache_.Find(key);
  if (e == nullptr || clock_->Now() - e->at >= options_.cache_ttl) return std::nullopt;
  PlanAnswer a = e->answer;
  a.cached = true;
  return a;
}

void PlanEndpoint::Store(const std::string& key, const PlanAnswer& answer) {
  std::lock_guard<std::mutex> l(cache_mu_);
  cache_.Put(key, Entry{answer, clock_->Now()});
}

// A full commit id is its own key; "" is the revision the controller acts
// on now (from its status, no I/O); any other name is cached as asked.
std::string PlanEndpoint::KeyFor(const std::string& rev) const {
  if (IsFullCommitId(rev)) return "commit:" + AsciiLower(rev);
  if (rev.empty()) {
    std::string current = controller_->Status().source.last_valid_revision;
    return current.empty() ? "current" : "commit:" + current;
  }
  return "name:" + rev;
}

PlanAnswer PlanEndpoint::Handle(std::string_view authorization,
                                const std::optional<std::string>& rev) {
  if (!enabled()) {
    return Error(404, "the plan API is off: configure api.tokenFile or api.readTokenFile");
  }
  if (!BearerMatches(authorization, options_.api_token) &&
      !BearerMatches(authorization, options_.read_token)) {
    return Error(401, "unauthorized");
  }
  std::string r = rev.value_or("");
  if (rev && !ValidRevisionArgument(r)) return Error(400, "rev must be a commit id or a ref name");
  std::string key = KeyFor(r);
  if (auto hit = Cached(key)) return *hit;
  if (!bucket_.TryTake()) {
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(bucket_.WaitForNext()).count();
    return Error(429, "too many plan requests; try again later",
                 static_cast<int>(std::max<long long>(wait, 1)));
  }
  std::unique_lock<std::mutex> one(compute_mu_, std::try_to_lock);
  if (!one.owns_lock()) return Error(503, "another plan is being computed; try again", 1);
  // It may have been computed while this request waited for its turn.
  if (auto hit = Cached(key)) return *hit;
  return Compute(r, key);
}

PlanAnswer PlanEndpoint::Compute(const std::string& rev, const std::string& key) {
  auto plan = controller_->PlanAt(rev);
  PlanAnswer a;
  if (plan.ok()) {
    a.body = std::move(plan).value();
    std::string resolved;
    if (a.body.contains("revision") && a.body["revision"].is_string()) {
      resolved = a.body["revision"].get<std::string>();
    }
    if (IsFullCommitId(resolved)) Store("commit:" + AsciiLower(resolved), a);
  } else {
    a = Error(HttpStatusOf(plan.status().code()), plan.status().message());
    a.body["code"] = Status::CodeName(plan.status().code());
    if (a.status == 503) a.retry_after_seconds = 1;
  }
  // Unavailable answers are not kept: the next try may succeed.
  if (a.status != 503 && a.status != 500) Store(key, a);
  return a;
}

}  // namespace gitdisc::serve
