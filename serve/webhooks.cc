#include "serve/webhooks.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "base/ascii.h"
#include "base/sha256.h"

namespace gitdisc::serve {
namespace {

WebhookOutcome Make(int status, std::string result, std::string reason, bool trigger = false) {
  WebhookOutcome o;
  o.http_status = status;
  o.result = std::move(result);
  o.reason = std::move(reason);
  o.trigger = trigger;
  return o;
}

WebhookOutcome Unauthorized() { return Make(401, "unauthorized", "unauthorized"); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// GitHub can send application/x-www-form-urlencoded bodies: payload=<json>.
// The signature covers the raw body, so this runs only after verification.
std::string FormPayload(std::string_view body) {
  constexpr std::string_view kPrefix = "payload=";
  if (body.substr(0, kPrefix.size()) != kPrefix) return std::string(body);
  std::string out;
  for (size_t i = kPrefix.size(); i < body.size(); ++i) {
    char c = body[i];
    if (c == '&') break;
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < body.size() && HexValue(body[i + 1]) >= 0 &&
               HexValue(body[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(body[i + 1]) * 16 + HexValue(body[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Safe to echo into logs: printable ASCII, bounded.
std::string Printable(std::string_view s, size_t max = 128) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

bool IsCommitId(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

const nlohmann::json* Path(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(k);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string StringAt(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* v = Path(j, keys);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

int IntAt(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* v = Path(j, keys);
  return v != nullptr && v->is_number_integer() ? v->get<int>() : 0;
}

// The preview outcome for a pull/merge request event, once its fields are read.
WebhookOutcome PreviewOutcome(const char* provider, const std::string& action, bool wanted,
                              const std::string& base, const std::string& branch, int number,
                              const std::string& sha) {
  if (!wanted) {
    return Make(200, "ignored", "pull request action '" + Printable(action, 40) + "' needs no preview");
  }
  if (base != branch) {
    return Make(200, "ignored", "pull request into " + Printable(base) + ", not the tracked branch");
  }
  if (number <= 0 || !IsCommitId(sha)) {
    return Make(400, "bad_request", "pull request payload without a number and head commit");
  }
  WebhookOutcome o = Make(202, "preview", "preview enqueued");
  o.preview = PullRequestHead{provider, number, sha};
  o.revision = sha;
  return o;
}

}  // namespace

const char* WebhookProviderName(WebhookProvider p) {
  switch (p) {
    case WebhookProvider::kGithub:
      return "github";
    case WebhookProvider::kGitlab:
      return "gitlab";
    case WebhookProvider::kGeneric:
      return "generic";
  }
  return "?";
}

std::string SignatureHeaderValue(std::string_view secret, std::string_view body) {
  Sha256Bytes mac = HmacSha256(secret, body);
  return "sha256=" + HexEncode(mac.data(), mac.size());
}

bool VerifySignatureHeader(std::string_view header, std::string_view secret,
                           std::string_view body) {
  // The expected value is always 71 characters, so checking the length
  // first reveals nothing; the content is compared in constant time.
  std::string expected = SignatureHeaderValue(secret, body);
  if (header.size() != expected.size() || header.substr(0, 7) != "sha256=") return false;
  std::string given = "sha256=" + AsciiLower(std::string(header.substr(7)));
  return ConstantTimeEquals(given, expected);
}

bool WebhookHandler::Configured(WebhookProvider provider) const {
  switch (provider) {
    case WebhookProvider::kGithub:
      return secrets_.github.has_value();
    case WebhookProvider::kGitlab:
      return secrets_.gitlab.has_value();
    case WebhookProvider::kGeneric:
      return secrets_.generic.has_value();
  }
  return false;
}

WebhookOutcome WebhookHandler::Handle(WebhookProvider provider,
                                      const WebhookRequest& request) const {
  if (!Configured(provider)) {
    return Make(404, "not_configured",
                std::string(WebhookProviderName(provider)) + " webhooks are not configured");
  }
  if (request.body.size() > kMaxWebhookBody) {
    return Make(413, "too_large", "body larger than 1 MiB");
  }
  switch (provider) {
    case WebhookProvider::kGithub:
      return Github(request);
    case WebhookProvider::kGitlab:
      return Gitlab(request);
    case WebhookProvider::kGeneric:
      return Generic(request);
  }
  return Make(500, "error", "unknown provider");
}

std::optional<WebhookOutcome> WebhookHandler::Dedup(WebhookProvider p,
                                                    const std::string& id) const {
  if (id.empty() || dedup_ == nullptr) return std::nullopt;
  if (dedup_->FirstSeen(std::string(WebhookProviderName(p)) + ":" + id)) return std::nullopt;
  WebhookOutcome o = Make(200, "duplicate", "delivery already received");
  o.delivery = id;
  return o;
}

WebhookOutcome WebhookHandler::Github(const WebhookRequest& r) const {
  if (!VerifySignatureHeader(r.header("X-Hub-Signature-256"), secrets_.github->Reveal(), r.body)) {
    return Unauthorized();
  }
  std::string delivery = Printable(r.header("X-GitHub-Delivery"));
  std::string event = r.header("X-GitHub-Event");
  if (auto dup = Dedup(WebhookProvider::kGithub, delivery)) return *dup;

  WebhookOutcome o;
  if (event == "ping") {
    o = Make(200, "ping", "pong");
  } else if (event == "pull_request") {
    nlohmann::json j = nlohmann::json::parse(FormPayload(r.body), nullptr, false);
    std::string action = j.is_object() ? StringAt(j, {"action"}) : "";
    bool wanted = action == "opened" || action == "synchronize" || action == "reopened";
    o = j.is_object()
            ? PreviewOutcome("github", action, wanted, StringAt(j, {"pull_request", "base", "ref"}),
                             branch_, IntAt(j, {"number"}),
                             StringAt(j, {"pull_request", "head", "sha"}))
            : Make(400, "bad_request", "pull_request payload is not JSON");
  } else if (event != "push") {
    o = Make(200, "ignored", "event '" + Printable(event, 40) + "' is not handled");
  } else {
    nlohmann::json j = nlohmann::json::parse(FormPayload(r.body), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ref") || !j["ref"].is_string()) {
      o = Make(400, "bad_request", "push payload without a ref");
    } else {
      std::string ref = j["ref"].get<std::string>();
      if (ref != "refs/heads/" + branch_) {
        o = Make(200, "ignored", "push to " + Printable(ref) + ", not the tracked branch");
      } else {
        o = Make(202, "accepted", "fetch enqueued", true);
        if (j.contains("after") && j["after"].is_string())
          o.revision = Printable(j["after"].get<std::string>(), 64);
      }
    }
  }
  o.delivery = delivery;
  return o;
}

WebhookOutcome WebhookHandler::Gitlab(const WebhookRequest& r) const {
  // Digests are compared so neither the token nor its length leaks through timing.
  std::string given = r.header("X-Gitlab-Token");
  if (given.empty() ||
      !ConstantTimeEquals(Sha256Hex(given), Sha256Hex(secrets_.gitlab->Reveal()))) {
    return Unauthorized();
  }
  std::string delivery = Printable(r.header("Idempotency-Key"));
  if (auto dup = Dedup(WebhookProvider::kGitlab, delivery)) return *dup;
  std::string event = r.header("X-Gitlab-Event");
  WebhookOutcome o;
  if (event == "Merge Request Hook") {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    std::string action = j.is_object() ? StringAt(j, {"object_attributes", "action"}) : "";
    bool wanted = action == "open" || action == "update" || action == "reopen";
    o = j.is_object()
            ? PreviewOutcome("gitlab", action, wanted,
                             StringAt(j, {"object_attributes", "target_branch"}), branch_,
                             IntAt(j, {"object_attributes", "iid"}),
                             StringAt(j, {"object_attributes", "last_commit", "id"}))
            : Make(400, "bad_request", "merge request payload is not JSON");
  } else if (event != "Push Hook") {
    o = Make(200, "ignored", "event '" + Printable(event, 40) + "' is not handled");
  } else {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ref") || !j["ref"].is_string()) {
      o = Make(400, "bad_request", "push payload without a ref");
    } else if (j["ref"].get<std::string>() != "refs/heads/" + branch_) {
      o = Make(200, "ignored",
               "push to " + Printable(j["ref"].get<std::string>()) + ", not the tracked branch");
    } else {
      o = Make(202, "accepted", "fetch enqueued", true);
      if (j.contains("after") && j["after"].is_string())
        o.revision = Printable(j["after"].get<std::string>(), 64);
    }
  }
  o.delivery = delivery;
  return o;
}

WebhookOutcome WebhookHandler::Generic(const WebhookRequest& r) const {
  if (!VerifySignatureHeader(r.header("X-Signature"), secrets_.generic->Reveal(), r.body)) {
    return Unauthorized();
  }
  std::string delivery = Printable(r.header("X-Delivery-Id"));
  if (auto dup = Dedup(WebhookProvider::kGeneric, delivery)) return *dup;
  WebhookOutcome o = Make(202, "accepted", "fetch enqueued", true);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    std::string ref;
    if (j.contains("ref") && j["ref"].is_string()) ref = j["ref"].get<std::string>();
    if (j.contains("branch") && j["branch"].is_string())
      ref = "refs/heads/" + j["branch"].get<std::string>();
    if (!ref.empty() && ref != "refs/heads/" + branch_) {
      o = Make(200, "ignored", "push to " + Printable(ref) + ", not the tracked branch");
    }
  }
  o.delivery = delivery;
  return o;
}

}  // namespace gitdisc::serve
