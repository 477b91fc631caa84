// Webhooks: authenticates and interprets the requests of GitHub, GitLab and a
// generic sender (DESIGN.md §8), and decides whether they trigger a fetch.
// Transport-free (no HTTP here) so every rule is unit-tested; the HTTP server
// maps an outcome to its response, its metric and its log line.
//
//  - GitHub:  X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>,
//             X-GitHub-Event ping|push|pull_request, X-GitHub-Delivery
//             de-duplicated.
//  - GitLab:  X-Gitlab-Token equal to the token, X-Gitlab-Event "Push Hook" |
//             "Merge Request Hook", Idempotency-Key de-duplicated when sent.
//  - Generic: X-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>,
//             X-Delivery-Id de-duplicated when sent; an optional JSON body
//             {"ref": "refs/heads/B"} or {"branch": "B"} limits it to a branch.
// Only pushes to the tracked branch trigger. A pull request (GitHub: opened,
// synchronize, reopened) or merge request (GitLab: open, update, reopen)
// whose base is the tracked branch yields its head for a preview (result
// "preview"; serve/previews.h), never a fetch of the branch. Secrets are compared in constant
// time (digests, so not even their length leaks); an outcome never carries a
// secret or a hint about it ("401 with no detail").
//
// WebhookHandler is immutable after construction apart from the shared
// DeliveryDedup; safe for concurrent use.
#ifndef GITDISC_SERVE_WEBHOOKS_H_
#define GITDISC_SERVE_WEBHOOKS_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "serve/delivery_dedup.h"
#include "serve/serve_config.h"

namespace gitdisc::serve {

inline constexpr size_t kMaxWebhookBody = 1 << 20;  // 1 MiB; larger gets 413

enum class WebhookProvider { kGithub, kGitlab, kGeneric };
const char* WebhookProviderName(WebhookProvider p);  // "github", "gitlab", "generic"

struct WebhookRequest {
  // Header lookup (case-insensitive in HTTP; the server's map handles that);
  // returns "" when absent.
  std::function<std::string(const char* name)> header;
  std::string_view body;
};

// A pull request's head commit, to be previewed.
struct PullRequestHead {
  std::string provider;  // "github" | "gitlab"
  int number = 0;        // pull request number / merge request iid
  std::string sha;       // 40 hex
};

struct WebhookOutcome {
  int http_status = 500;
  // Metric label: accepted | preview | ignored | ping | duplicate |
  // unauthorized | bad_request | too_large | not_configured.
  std::string result;
  std::string reason;    // for the response body and logs; never secret
  bool trigger = false;  // enqueue a fetch
  std::string delivery;  // delivery id when one was sent (safe to log)
  std::string revision;  // the pushed commit, when the payload names it
  std::optional<PullRequestHead> preview;  // result "preview"
};

struct WebhookSecrets {
  std::optional<Secret> github;
  std::optional<Secret> gitlab;
  std::optional<Secret> generic;
};

class WebhookHandler {
 public:
  // branch: the tracked branch ("main"); dedup must outlive the handler.
  WebhookHandler(std::string branch, WebhookSecrets secrets, DeliveryDedup* dedup)
      : branch_(std::move(branch)), secrets_(std::move(secrets)), dedup_(dedup) {}

  WebhookOutcome Handle(WebhookProvider provider, const WebhookRequest& request) const;
  bool Configured(WebhookProvider provider) const;

 private:
  WebhookOutcome Github(const WebhookRequest& r) const;
  WebhookOutcome Gitlab(const WebhookRequest& r) const;
  WebhookOutcome Generic(const WebhookRequest& r) const;
  // "duplicate" outcome when id was seen before, else nullopt.
  std::optional<WebhookOutcome> Dedup(WebhookProvider p, const std::string& id) const;

  std::string branch_;
  WebhookSecrets secrets_;
  DeliveryDedup* dedup_;
};

// "sha256=" + lower-case hex HMAC-SHA256(secret, body): what GitHub sends.
std::string SignatureHeaderValue(std::string_view secret, std::string_view body);
// Constant-time check of a "sha256=<hex>" header against the body.
bool VerifySignatureHeader(std::string_view header, std::string_view secret, std::string_view body);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_WEBHOOKS_H_
