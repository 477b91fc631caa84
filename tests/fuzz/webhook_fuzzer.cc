// libFuzzer target: webhook request handling (serve/webhooks.h), i.e.
// signature/token checks and event parsing for GitHub, GitLab and generic
// deliveries, on arbitrary header values and bodies.
//
// Input format (so that seeds are readable and mutations stay meaningful):
//   line 1: "<github|gitlab|generic> [signed]"
//   then "Name: value" header lines up to an empty line, then the body.
// With "signed" the target replaces the signature header (GitHub
// X-Hub-Signature-256, generic X-Signature) with the correct HMAC of the body,
// or the GitLab token with the configured one, so the fuzzer reaches the
// event parsing behind authentication. Checked promises: an unauthenticated
// delivery never triggers a fetch and gets 401; a trigger always comes with
// a 2xx status; no secret ever appears in the result or reason.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "serve/delivery_dedup.h"
#include "serve/webhooks.h"

namespace {

constexpr std::string_view kGithubSecret = "fuzz-github-secret-0123456789";
constexpr std::string_view kGitlabToken = "fuzz-gitlab-token-0123456789";
constexpr std::string_view kGenericSecret = "fuzz-generic-secret-0123456789";

std::string_view NextLine(std::string_view* rest) {
  size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool Contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gitdisc::serve;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view first = NextLine(&rest);
  WebhookProvider provider = WebhookProvider::kGeneric;
  if (first.starts_with("github")) provider = WebhookProvider::kGithub;
  if (first.starts_with("gitlab")) provider = WebhookProvider::kGitlab;
  bool sign = first.find("signed") != std::string_view::npos;

  std::map<std::string, std::string> headers;
  while (!rest.empty()) {
    std::string_view line = NextLine(&rest);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    headers[std::string(line.substr(0, colon))] = std::string(value);
  }
  std::string_view body = rest;

  std::string good_signature;
  if (provider == WebhookProvider::kGithub) {
    good_signature = SignatureHeaderValue(kGithubSecret, body);
    if (sign) headers["X-Hub-Signature-256"] = good_signature;
  } else if (provider == WebhookProvider::kGitlab) {
    if (sign) headers["X-Gitlab-Token"] = std::string(kGitlabToken);
  } else {
    good_signature = SignatureHeaderValue(kGenericSecret, body);
    if (sign) headers["X-Signature"] = good_signature;
  }

  WebhookSecrets secrets;
  secrets.github = Secret(std::string(kGithubSecret), "/fuzz/github");
  secrets.gitlab = Secret(std::string(kGitlabToken), "/fuzz/gitlab");
  secrets.generic = Secret(std::string(kGenericSecret), "/fuzz/generic");
  DeliveryDedup dedup(8);
  WebhookHandler handler("main", std::move(secrets), &dedup);

  WebhookRequest request;
  request.header = [&headers](const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  request.body = body;

  // Twice: the second delivery with the same id must not trigger again.
  for (int round = 0; round < 2; ++round) {
    WebhookOutcome out = handler.Handle(provider, request);
    if (out.http_status < 200 || out.http_status > 599) __builtin_trap();
    if (out.trigger && (out.http_status < 200 || out.http_status > 299)) __builtin_trap();
    // (Unless the input itself carries a secret, e.g. as the pushed ref.)
    std::string_view all(reinterpret_cast<const char*>(data), size);
    bool input_has_secret = all.find(kGithubSecret) != std::string_view::npos ||
                            all.find(kGitlabToken) != std::string_view::npos ||
                            all.find(kGenericSecret) != std::string_view::npos;
    for (const std::string* s : {&out.result, &out.reason, &out.delivery}) {
      if (input_has_secret) break;
      if (Contains(*s, kGithubSecret) || Contains(*s, kGitlabToken) ||
          Contains(*s, kGenericSecret)) {
        __builtin_trap();
      }
    }
    bool authentic;
    if (provider == WebhookProvider::kGitlab) {
      authentic = request.header("X-Gitlab-Token") == kGitlabToken;
    } else {
      const char* h = provider == WebhookProvider::kGithub ? "X-Hub-Signature-256" : "X-Signature";
      authentic = VerifySignatureHeader(
          request.header(h), provider == WebhookProvider::kGithub ? kGithubSecret : kGenericSecret,
          body);
    }
    if (!authentic && out.trigger) __builtin_trap();
    if (!authentic && body.size() <= kMaxWebhookBody && out.http_status != 401) __builtin_trap();
    if (round == 1 && out.trigger && !out.delivery.empty()) __builtin_trap();
  }
  return 0;
}
