#include "serve/webhooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace gitdisc::serve {
namespace {

// GitHub's documented example ("Validating webhook deliveries").
constexpr char kGithubSecret[] = "It's a Secret to Everybody";
constexpr char kGithubPayload[] = "Hello, World!";
constexpr char kGithubSignature[] =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

struct Req {
  std::map<std::string, std::string> headers;
  std::string body;
  WebhookRequest Get() const {
    return WebhookRequest{[this](const char* name) {
                            auto it = headers.find(name);
                            return it == headers.end() ? std::string() : it->second;
                          },
                          body};
  }
};

class WebhooksTest : public ::testing::Test {
 protected:
  WebhooksTest()
      : handler_("main",
                 WebhookSecrets{Secret(kGithubSecret, "gh"), Secret("gl-token", "gl"),
                                Secret("generic-secret", "ge")},
                 &dedup_) {}

  Req GithubPush(const std::string& ref, const std::string& delivery) {
    Req r;
    r.body = R"({"ref":")" + ref + R"(","after":"0123456789abcdef0123456789abcdef01234567"})";
    r.headers = {{"X-GitHub-Event", "push"},
                 {"X-GitHub-Delivery", delivery},
                 {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, r.body)}};
    return r;
  }

  DeliveryDedup dedup_{64};
  WebhookHandler handler_;
};

TEST(Signature, MatchesGithubsDocumentedExample) {
  EXPECT_EQ(SignatureHeaderValue(kGithubSecret, kGithubPayload), kGithubSignature);
  EXPECT_TRUE(VerifySignatureHeader(kGithubSignature, kGithubSecret, kGithubPayload));
  std::string upper = kGithubSignature;
  for (size_t i = 7; i < upper.size(); ++i) upper[i] = static_cast<char>(toupper(upper[i]));
  EXPECT_TRUE(VerifySignatureHeader(upper, kGithubSecret, kGithubPayload));
}

TEST(Signature, RejectsAnythingElse) {
  std::string bad = kGithubSignature;
  bad.back() = '6';
  EXPECT_FALSE(VerifySignatureHeader(bad, kGithubSecret, kGithubPayload));
  EXPECT_FALSE(VerifySignatureHeader("", kGithubSecret, kGithubPayload));
  EXPECT_FALSE(VerifySignatureHeader(std::string(kGithubSignature).substr(7), kGithubSecret,
                                     kGithubPayload));
  std::string sha1 = kGithubSignature;
  sha1.replace(0, 6, "sha1xx");
  EXPECT_FALSE(VerifySignatureHeader(sha1, kGithubSecret, kGithubPayload));
  EXPECT_FALSE(VerifySignatureHeader(kGithubSignature, kGithubSecret, "Hello, World?"));
  EXPECT_FALSE(VerifySignatureHeader(kGithubSignature, "another secret", kGithubPayload));
}

TEST_F(WebhooksTest, GithubPushToTheTrackedBranchTriggers) {
  Req r = GithubPush("refs/heads/main", "d-1");
  WebhookOutcome o = handler_.Handle(WebhookProvider::kGithub, r.Get());
  EXPECT_EQ(o.http_status, 202);
  EXPECT_EQ(o.result, "accepted");
  EXPECT_TRUE(o.trigger);
  EXPECT_EQ(o.delivery, "d-1");
  EXPECT_EQ(o.revision, "0123456789abcdef0123456789abcdef01234567");
}

TEST_F(WebhooksTest, GithubPushToAnotherBranchOrATagIsIgnored) {
  for (const char* ref : {"refs/heads/dev", "refs/tags/main", "refs/heads/main2"}) {
    WebhookOutcome o =
        handler_.Handle(WebhookProvider::kGithub, GithubPush(ref, std::string("d-") + ref).Get());
    EXPECT_EQ(o.http_status, 200) << ref;
    EXPECT_EQ(o.result, "ignored") << ref;
    EXPECT_FALSE(o.trigger) << ref;
    EXPECT_THAT(o.reason, ::testing::HasSubstr(ref));
  }
}

TEST_F(WebhooksTest, GithubRepeatedDeliveryIsRecognised) {
  Req r = GithubPush("refs/heads/main", "d-2");
  EXPECT_TRUE(handler_.Handle(WebhookProvider::kGithub, r.Get()).trigger);
  WebhookOutcome again = handler_.Handle(WebhookProvider::kGithub, r.Get());
  EXPECT_EQ(again.result, "duplicate");
  EXPECT_EQ(again.http_status, 200);
  EXPECT_FALSE(again.trigger);
}

TEST_F(WebhooksTest, GithubUnsignedDeliveriesDoNotPoisonTheDedup) {
  Req forged = GithubPush("refs/heads/main", "d-3");
  forged.headers["X-Hub-Signature-256"] = "sha256=" + std::string(64, '0');
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGithub, forged.Get()).http_status, 401);
  EXPECT_TRUE(handler_.Handle(WebhookProvider::kGithub, GithubPush("refs/heads/main", "d-3").Get())
                  .trigger);
}

TEST_F(WebhooksTest, GithubPingAndOtherEvents) {
  Req r;
  r.body = R"({"zen":"Keep it logically awesome."})";
  r.headers = {{"X-GitHub-Event", "ping"},
               {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, r.body)}};
  WebhookOutcome o = handler_.Handle(WebhookProvider::kGithub, r.Get());
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.result, "ping");
  EXPECT_FALSE(o.trigger);
  r.headers["X-GitHub-Event"] = "issues";
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGithub, r.Get()).result, "ignored");
}

TEST_F(WebhooksTest, GithubFormEncodedPayload) {
  Req r;
  r.body = "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D";
  r.headers = {{"X-GitHub-Event", "push"},
               {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, r.body)}};
  EXPECT_TRUE(handler_.Handle(WebhookProvider::kGithub, r.Get()).trigger);
}

TEST_F(WebhooksTest, GithubBadPayloadIs400AfterAuthentication) {
  Req r;
  r.body = "not json";
  r.headers = {{"X-GitHub-Event", "push"},
               {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, r.body)}};
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGithub, r.Get()).http_status, 400);
}

TEST_F(WebhooksTest, OversizeIs413) {
  Req r = GithubPush("refs/heads/main", "big");
  r.body = std::string(kMaxWebhookBody + 1, 'x');
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGithub, r.Get()).http_status, 413);
}

TEST_F(WebhooksTest, GitlabTokenAndEvent) {
  Req r;
  r.body = R"({"ref":"refs/heads/main","after":"abc"})";
  r.headers = {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", "gl-token"}};
  WebhookOutcome o = handler_.Handle(WebhookProvider::kGitlab, r.Get());
  EXPECT_EQ(o.http_status, 202);
  EXPECT_TRUE(o.trigger);
  r.headers["X-Gitlab-Token"] = "gl-tokeN";
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGitlab, r.Get()).http_status, 401);
  r.headers.erase("X-Gitlab-Token");
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGitlab, r.Get()).http_status, 401);
  r.headers["X-Gitlab-Token"] = "gl-token";
  r.headers["X-Gitlab-Event"] = "Tag Push Hook";
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGitlab, r.Get()).result, "ignored");
  r.headers["X-Gitlab-Event"] = "Push Hook";
  r.headers["Idempotency-Key"] = "k1";
  EXPECT_TRUE(handler_.Handle(WebhookProvider::kGitlab, r.Get()).trigger);
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGitlab, r.Get()).result, "duplicate");
}

TEST_F(WebhooksTest, GenericSignatureAndOptionalBranch) {
  Req r;
  r.headers = {{"X-Signature", SignatureHeaderValue("generic-secret", "")}};
  EXPECT_TRUE(handler_.Handle(WebhookProvider::kGeneric, r.Get()).trigger);
  r.body = R"({"branch":"dev"})";
  r.headers["X-Signature"] = SignatureHeaderValue("generic-secret", r.body);
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGeneric, r.Get()).result, "ignored");
  r.headers["X-Signature"] = SignatureHeaderValue(kGithubSecret, r.body);
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGeneric, r.Get()).http_status, 401);
}

TEST(Webhooks, UnconfiguredProviderIs404) {
  DeliveryDedup dedup;
  WebhookHandler handler("main", WebhookSecrets{}, &dedup);
  Req r;
  EXPECT_EQ(handler.Handle(WebhookProvider::kGitlab, r.Get()).http_status, 404);
  EXPECT_FALSE(handler.Configured(WebhookProvider::kGithub));
}

}  // namespace
}  // namespace gitdisc::serve

namespace gitdisc::serve {
namespace {

class PullRequestHookTest : public WebhooksTest {
 protected:
  Req GithubPr(const std::string& action, const std::string& base, const std::string& sha,
               const std::string& delivery) {
    Req r;
    r.body = R"({"action":")" + action + R"(","number":12,"pull_request":{"head":{"sha":")" +
             sha + R"("},"base":{"ref":")" + base + R"("}}})";
    r.headers = {{"X-GitHub-Event", "pull_request"},
                 {"X-GitHub-Delivery", delivery},
                 {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, r.body)}};
    return r;
  }
  Req GitlabMr(const std::string& action, const std::string& target, const std::string& sha) {
    Req r;
    r.body = R"({"object_kind":"merge_request","object_attributes":{"iid":4,"action":")" +
             action + R"(","target_branch":")" + target + R"(","last_commit":{"id":")" + sha +
             R"("}}})";
    r.headers = {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", "gl-token"}};
    return r;
  }
  const std::string sha_ = "0123456789abcdef0123456789abcdef01234567";
};

TEST_F(PullRequestHookTest, AnOpenedGithubPullRequestIntoTheBranchIsAPreviewNotAFetch) {
  auto o = handler_.Handle(WebhookProvider::kGithub, GithubPr("opened", "main", sha_, "d1").Get());
  EXPECT_EQ(o.http_status, 202);
  EXPECT_EQ(o.result, "preview");
  EXPECT_FALSE(o.trigger);
  ASSERT_TRUE(o.preview.has_value());
  EXPECT_EQ(o.preview->provider, "github");
  EXPECT_EQ(o.preview->number, 12);
  EXPECT_EQ(o.preview->sha, sha_);
  auto sync =
      handler_.Handle(WebhookProvider::kGithub, GithubPr("synchronize", "main", sha_, "d2").Get());
  EXPECT_EQ(sync.result, "preview");
}

TEST_F(PullRequestHookTest, OtherActionsBasesAndBadHeadsAreNotPreviewed) {
  auto closed =
      handler_.Handle(WebhookProvider::kGithub, GithubPr("closed", "main", sha_, "d3").Get());
  EXPECT_EQ(closed.result, "ignored");
  EXPECT_FALSE(closed.preview.has_value());
  auto other =
      handler_.Handle(WebhookProvider::kGithub, GithubPr("opened", "dev", sha_, "d4").Get());
  EXPECT_EQ(other.result, "ignored");
  auto bad =
      handler_.Handle(WebhookProvider::kGithub, GithubPr("opened", "main", "HEAD~1", "d5").Get());
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_FALSE(bad.preview.has_value());
  Req forged = GithubPr("opened", "main", sha_, "d6");
  forged.headers["X-Hub-Signature-256"] = SignatureHeaderValue("wrong", forged.body);
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGithub, forged.Get()).http_status, 401);
}

TEST_F(PullRequestHookTest, AGitlabMergeRequestUpdateIsAPreview) {
  auto o = handler_.Handle(WebhookProvider::kGitlab, GitlabMr("update", "main", sha_).Get());
  EXPECT_EQ(o.result, "preview");
  ASSERT_TRUE(o.preview.has_value());
  EXPECT_EQ(o.preview->provider, "gitlab");
  EXPECT_EQ(o.preview->number, 4);
  EXPECT_EQ(o.preview->sha, sha_);
  EXPECT_EQ(handler_.Handle(WebhookProvider::kGitlab, GitlabMr("merge", "main", sha_).Get()).result,
            "ignored");
}

}  // namespace
}  // namespace gitdisc::serve
