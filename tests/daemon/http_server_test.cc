// HTTP tests of the daemon against a RUNNING server on 127.0.0.1 (ephemeral
// port) with a real client (httplib::Client), a FakeController and secrets in
// private temp files, exactly as `gitdisc serve` wires them.
#include "serve/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/file_util.h"
#include "cli/cli.h"
#include "tests/support/promtool.h"
#include "reconciler/status_table.h"
#include "tests/support/fake_controller.h"
#include "tests/support/raw_http_client.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kGithubSecret[] = "It's a Secret to Everybody";
constexpr char kGithubPayload[] = "Hello, World!";
constexpr char kGithubSignature[] =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
constexpr char kGitlabToken[] = "gitlab-token-c0ffee";
constexpr char kGenericSecret[] = "generic-secret-5ca1ab1e";
constexpr char kApiToken[] = "api-token-deadbeef";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gitdisc-http-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto secret = [&](const char* name, const char* value) {
      std::string path = dir_ + "/" + name;
      EXPECT_TRUE(WriteFileAtomic(path, std::string(value) + "\n", 0600).ok());
      return path;
    };
    std::string config =
        "source: {repo: /srv/fleet.git, branch: main}\n"
        "listen: 127.0.0.1:0\n"
        "webhooks:\n"
        "  github: {secretFile: " +
        secret("gh", kGithubSecret) +
        "}\n"
        "  gitlab: {tokenFile: " +
        secret("gl", kGitlabToken) +
        "}\n"
        "  generic: {secretFile: " +
        secret("ge", kGenericSecret) +
        "}\n"
        "api: {tokenFile: " +
        secret("api", kApiToken) + "}\n";
    auto parsed = ParseServeConfig(config, dir_ + "/config.yaml");
    ASSERT_TRUE(parsed.config);
    log_ = std::make_unique<DaemonLog>(&log_out_, LogFormat::kJson, &clock_, /*verbose=*/true);
    metrics_ = std::make_unique<GitdiscMetrics>(&registry_);
    server_ = std::make_unique<HttpServer>(HttpServerOptions::FromConfig(*parsed.config),
                                           &controller_, &registry_, metrics_.get(), log_.get());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  void TearDown() override {
    server_->Stop();
    // No secret ever reaches the log.
    std::string log = log_out_.str();
    for (const char* s : {kGithubSecret, kGitlabToken, kGenericSecret, kApiToken}) {
      EXPECT_THAT(log, Not(HasSubstr(s))) << "secret leaked into the log";
    }
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    c.set_write_timeout(30, 0);
    return c;
  }

  // Asserts no response ever carries a secret.
  void NoSecrets(const httplib::Result& r) {
    ASSERT_TRUE(r);
    for (const char* s : {kGithubSecret, kGitlabToken, kGenericSecret, kApiToken}) {
      EXPECT_THAT(r->body, Not(HasSubstr(s)));
      for (const auto& [k, v] : r->headers) EXPECT_THAT(v, Not(HasSubstr(s)));
    }
  }

  httplib::Result GithubPush(httplib::Client& c, const std::string& ref,
                             const std::string& delivery) {
    std::string body = R"({"ref":")" + ref + R"(","after":"89ab"})";
    httplib::Headers h = {{"X-GitHub-Event", "push"},
                          {"X-GitHub-Delivery", delivery},
                          {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, body)}};
    return c.Post("/hooks/github", h, body, "application/json");
  }

  std::string dir_;
  FakeClock clock_;
  std::ostringstream log_out_;  // DaemonLog serialises writes
  MetricsRegistry registry_;
  std::unique_ptr<GitdiscMetrics> metrics_;
  std::unique_ptr<DaemonLog> log_;
  testing::FakeController controller_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GithubsDocumentedExampleVerifies) {
  auto c = Client();
  httplib::Headers h = {{"X-GitHub-Event", "ping"},
                        {"X-GitHub-Delivery", "example-1"},
                        {"X-Hub-Signature-256", kGithubSignature}};
  auto r = c.Post("/hooks/github", h, kGithubPayload, "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("\"result\": \"ping\""));
  NoSecrets(r);
  EXPECT_TRUE(controller_.source_changed().empty());  // a ping does not fetch
}

TEST_F(HttpServerTest, GithubPushToTheBranchEnqueuesAFetch) {
  auto c = Client();
  auto r = GithubPush(c, "refs/heads/main", "d-100");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_THAT(controller_.source_changed(), ::testing::ElementsAre("webhook github"));
  auto other = GithubPush(c, "refs/heads/feature", "d-101");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_THAT(other->body, HasSubstr("not the tracked branch"));
  EXPECT_EQ(controller_.source_changed().size(), 1u);
  EXPECT_THAT(log_out_.str(), HasSubstr("\"delivery\":\"d-100\""));
}

TEST_F(HttpServerTest, ReplayedDeliveryIsRecognisedAndNotEnqueuedTwice) {
  auto c = Client();
  ASSERT_EQ(GithubPush(c, "refs/heads/main", "d-200")->status, 202);
  auto again = GithubPush(c, "refs/heads/main", "d-200");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_THAT(again->body, HasSubstr("duplicate"));
  EXPECT_EQ(controller_.source_changed().size(), 1u);
}

TEST_F(HttpServerTest, BadOrMissingSignaturesGet401WithoutDetail) {
  auto c = Client();
  std::string body = R"({"ref":"refs/heads/main"})";
  std::string wrong = SignatureHeaderValue("not the secret", body);
  for (const httplib::Headers& h :
       {httplib::Headers{{"X-GitHub-Event", "push"}},
        httplib::Headers{{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", wrong}},
        httplib::Headers{{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", "sha256="}},
        httplib::Headers{
            {"X-GitHub-Event", "push"},
            {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, body + " ")}}}) {
    auto r = c.Post("/hooks/github", h, body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->body, "unauthorized\n");
    NoSecrets(r);
  }
  auto gl = c.Post("/hooks/gitlab", {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", "nope"}},
                   body, "application/json");
  ASSERT_TRUE(gl);
  EXPECT_EQ(gl->status, 401);
  auto ge = c.Post("/hooks/generic", {{"X-Signature", wrong}}, body, "application/json");
  ASSERT_TRUE(ge);
  EXPECT_EQ(ge->status, 401);
  EXPECT_TRUE(controller_.source_changed().empty());
  EXPECT_EQ(metrics_->webhook_requests.Value({"github", "unauthorized"}), 4);
}

TEST_F(HttpServerTest, GitlabAndGenericTrigger) {
  auto c = Client();
  std::string body = R"({"ref":"refs/heads/main","after":"abc"})";
  auto gl =
      c.Post("/hooks/gitlab", {{"X-Gitlab-Event", "Push Hook"}, {"X-Gitlab-Token", kGitlabToken}},
             body, "application/json");
  ASSERT_TRUE(gl);
  EXPECT_EQ(gl->status, 202);
  NoSecrets(gl);
  auto ge = c.Post("/hooks/generic", {{"X-Signature", SignatureHeaderValue(kGenericSecret, "")}},
                   "", "application/json");
  ASSERT_TRUE(ge);
  EXPECT_EQ(ge->status, 202);
  EXPECT_THAT(controller_.source_changed(),
              ::testing::ElementsAre("webhook gitlab", "webhook generic"));
}

TEST_F(HttpServerTest, OversizeBodyGets413) {
  auto c = Client();
  std::string big(kMaxWebhookBody + 1, 'x');
  auto r = c.Post("/hooks/github",
                  {{"X-GitHub-Event", "push"},
                   {"X-Hub-Signature-256", SignatureHeaderValue(kGithubSecret, big)}},
                  big, "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(controller_.source_changed().empty());
  // Exactly 1 MiB is still accepted for reading (then judged on its merits).
  std::string limit(kMaxWebhookBody, 'y');
  auto ok = c.Post("/hooks/generic", {{"X-Signature", SignatureHeaderValue(kGenericSecret, limit)}},
                   limit, "application/octet-stream");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
}

TEST_F(HttpServerTest, WrongMethodsGet405AndUnknownPaths404) {
  auto c = Client();
  auto g = c.Get("/hooks/github");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 405);
  EXPECT_EQ(g->get_header_value("Allow"), "POST");
  auto p = c.Post("/healthz", "", "text/plain");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 405);
  EXPECT_EQ(p->get_header_value("Allow"), "GET");
  auto d = c.Delete("/api/v1/status");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 405);
  auto get_reconcile = c.Get("/api/v1/reconcile");
  ASSERT_TRUE(get_reconcile);
  EXPECT_EQ(get_reconcile->status, 405);
  for (const char* path : {"/nope", "/hooks/bitbucket", "/api/v2/status", "/healthz/x"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST_F(HttpServerTest, HealthAndReadiness) {
  auto c = Client();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  controller_.SetReady(false);
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // alive, just not ready
}

TEST_F(HttpServerTest, ReconcileNeedsTheBearerToken) {
  auto c = Client();
  auto none = c.Post("/api/v1/reconcile", "", "text/plain");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"gitdisc\"");
  auto wrong = c.Post("/api/v1/reconcile", {{"Authorization", "Bearer api-token-deadbeeF"}}, "",
                      "text/plain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto basic = c.Post("/api/v1/reconcile", {{"Authorization", std::string("Basic ") + kApiToken}},
                      "", "text/plain");
  ASSERT_TRUE(basic);
  EXPECT_EQ(basic->status, 401);
  EXPECT_TRUE(controller_.enqueue_all().empty());
  auto ok = c.Post("/api/v1/reconcile", {{"Authorization", std::string("Bearer ") + kApiToken}}, "",
                   "text/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
  NoSecrets(ok);
  EXPECT_THAT(controller_.enqueue_all(), ::testing::ElementsAre("api"));
}

TEST_F(HttpServerTest, StatusIsTheControllersFleetStatusAsJson) {
  auto c = Client();
  auto r = c.Get("/api/v1/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto j = nlohmann::json::parse(r->body);
  auto parsed = reconciler::FleetStatusFromJson(j);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->source.revision, testing::SampleFleetStatus().source.revision);
  EXPECT_EQ(parsed->vms.size(), 6u);
}

TEST_F(HttpServerTest, PlanOfAnyRevisionNeedsTheTokenAndIsCached) {
  auto c = Client();
  auto none = c.Get("/api/v1/plan");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"gitdisc\"");
  EXPECT_TRUE(controller_.plan_requests().empty()) << "no work before authentication";
  c.set_bearer_token_auth(kApiToken);
  auto r = c.Get("/api/v1/plan?rev=0123456789abcdef0123456789abcdef01234567");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["revision"], "0123456789abcdef0123456789abcdef01234567");
  NoSecrets(r);
  auto cached = c.Get("/api/v1/plan?rev=0123456789abcdef0123456789abcdef01234567");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->get_header_value("X-Gitdisc-Cache"), "hit");
  EXPECT_EQ(c.Get("/api/v1/plan")->status, 200);
  EXPECT_EQ(c.Get("/api/v1/plan?rev=0000000000000000000000000000000000000000")->status, 404);
  auto invalid = c.Get("/api/v1/plan?rev=badbadbadbadbadbadbadbadbadbadbadbadbad0");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 422);
  EXPECT_THAT(invalid->body, HasSubstr("fleet.yaml:3:5: error"));
  EXPECT_EQ(c.Get("/api/v1/plan?rev=--upload-pack%3Devil")->status, 400);
  EXPECT_THAT(controller_.plan_requests(),
              ::testing::ElementsAre("0123456789abcdef0123456789abcdef01234567", "",
                                     "0000000000000000000000000000000000000000",
                                     "badbadbadbadbadbadbadbadbadbadbadbadbad0"));
  // The burst is spent: a fifth new plan waits.
  auto limited = c.Get("/api/v1/plan?rev=main");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_FALSE(limited->get_header_value("Retry-After").empty());
}

TEST_F(HttpServerTest, RequestsForOtherHostsAreRefused) {
  // A page whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its
  // own name as Host.
  auto c = Client();
  auto r = c.Get("/api/v1/status", {{"Host", "rebound.attacker.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "rebound.attacker.example:9420"}})->status, 403);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "localhost:9420"}})->status, 200);
  EXPECT_EQ(c.Get("/api/v1/status")->status, 200);
}

TEST_F(HttpServerTest, PostWithoutLengthGets411AtOnce) {
  auto raw = test_support::RawHttpClient::Connect("127.0.0.2", "127.0.0.1", server_->port());
  ASSERT_TRUE(raw.ok());
  raw->Send("POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n\r\n"
            "{\"ref\": \"refs/heads/main\"} and more, until the client closes...");
  EXPECT_EQ(test_support::StatusCodeOf(raw->ReadUntil(std::chrono::seconds(3), "\r\n\r\n")), 411);
  EXPECT_TRUE(controller_.source_changed().empty());
  EXPECT_EQ(metrics_->http_refused.Value({"length_required"}), 1);
}

TEST_F(HttpServerTest, MetricsPassTheFormatCheck) {
  auto c = Client();
  ASSERT_EQ(GithubPush(c, "refs/heads/main", "m-1")->status, 202);
  metrics_->reconcile_duration.Observe(1.5);
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(testing::PromtoolProblems(r->body), "") << r->body;
  const std::string& m = r->body;
  EXPECT_THAT(m, HasSubstr("gitdisc_vms{condition=\"Ready\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("gitdisc_vms{condition=\"Failed\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("gitdisc_payload_applies_total{result=\"ok\"} 5\n"));
  EXPECT_THAT(m, HasSubstr("gitdisc_iso_cache_bytes 73400320\n"));
  EXPECT_THAT(
      m, HasSubstr("gitdisc_webhook_requests_total{provider=\"github\",result=\"accepted\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("gitdisc_source_revision_info{revision=\"4f2a9c1e7b3d5a6f8091a2b3c4d5e6f"
                           "708192a3b\"} 1\n"));
  EXPECT_THAT(m, HasSubstr("gitdisc_reconcile_duration_seconds_count 1\n"));
}

TEST_F(HttpServerTest, StatusPageIsSelfContainedAndEscaped) {
  auto c = Client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(r->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'none'"));
  const std::string& html = r->body;
  EXPECT_THAT(html, HasSubstr("<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_THAT(html, HasSubstr("4f2a9c1e7b3d"));
  EXPECT_THAT(html, HasSubstr("sets &lt;b&gt;web-baseline&lt;/b&gt; &amp; edge"));
  EXPECT_THAT(html, Not(HasSubstr("<b>web-baseline</b>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
}

TEST_F(HttpServerTest, ConcurrentRequestsAreAllAnswered) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client();
      for (int i = 0; i < kPerThread; ++i) {
        auto request = [&]() -> httplib::Result {
          switch (i % 4) {
            case 0:
              return GithubPush(c, "refs/heads/main",
                                "c-" + std::to_string(t) + "-" + std::to_string(i));
            case 1:
              return c.Get("/api/v1/status");
            case 2:
              return c.Get("/metrics");
            default:
              return c.Get("/");
          }
        };
        httplib::Result r = request();
        if (r && (r->status == 200 || r->status == 202)) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  // Every distinct delivery enqueued exactly once.
  EXPECT_EQ(controller_.source_changed().size(), static_cast<size_t>(kThreads * 7));
  EXPECT_EQ(metrics_->webhook_requests.Value({"github", "accepted"}), kThreads * 7);
}

TEST_F(HttpServerTest, StatusServerPrintsTheSameTableAsConnect) {
  std::string url = "http://127.0.0.1:" + std::to_string(server_->port());
  std::ostringstream out, err;
  const char* argv[] = {"gitdisc", "status", "--server", url.c_str()};
  int rc = cli::RunCli(4, argv, cli::Io{out, err, false});
  EXPECT_EQ(rc, cli::kExitOk) << err.str();
  EXPECT_EQ(out.str(), reconciler::RenderFleetTable(testing::SampleFleetStatus(), false));

  std::ostringstream json_out, json_err;
  const char* json_argv[] = {"gitdisc", "-o", "json", "status", "--server", url.c_str()};
  EXPECT_EQ(cli::RunCli(6, json_argv, cli::Io{json_out, json_err, false}), cli::kExitOk);
  EXPECT_EQ(nlohmann::json::parse(json_out.str())["schemaVersion"], 1);

  // An unreachable daemon is exit 2 with a message.
  std::ostringstream out2, err2;
  const char* bad[] = {"gitdisc", "status", "--server", "http://127.0.0.1:1", "--timeout", "5"};
  EXPECT_EQ(cli::RunCli(6, bad, cli::Io{out2, err2, false}), cli::kExitError);
  EXPECT_THAT(err2.str(), HasSubstr("cannot reach http://127.0.0.1:1"));
}

TEST(ServeCommand, BadConfigExits2WithEveryDiagnostic) {
  char tmpl[] = "/tmp/gitdisc-serve-cli-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(WriteFileAtomic(dir + "/leaky.secret", "s3cret-value\n", 0644).ok());
  std::string config = dir + "/config.yaml";
  ASSERT_TRUE(WriteFileAtomic(config,
                              "source: {repo: ., interval: often}\n"
                              "listen: 9420\n"
                              "webhooks: {github: {secretFile: leaky.secret}}\n")
                  .ok());
  std::ostringstream out, err;
  const char* argv[] = {"gitdisc", "serve", "--config", config.c_str()};
  EXPECT_EQ(cli::RunCli(4, argv, cli::Io{out, err, false}), cli::kExitError);
  EXPECT_THAT(err.str(), HasSubstr(config + ":1:29: error: source.interval: 'often'"));
  EXPECT_THAT(err.str(), HasSubstr(config + ":2:9: error: listen: '9420' is not HOST:PORT"));
  EXPECT_THAT(err.str(), HasSubstr("is accessible to other users (mode 0644)"));
  EXPECT_THAT(err.str(), Not(HasSubstr("s3cret-value")));
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(HttpServerStart, BusyPortIsAnError) {
  FakeClock clock;
  std::ostringstream out;
  DaemonLog log(&out, LogFormat::kText, &clock);
  MetricsRegistry registry;
  GitdiscMetrics metrics(&registry);
  testing::FakeController controller;
  HttpServerOptions o;
  o.port = 0;
  HttpServer first(o, &controller, &registry, &metrics, &log);
  ASSERT_TRUE(first.Start().ok());
  o.port = first.port();
  HttpServer second(o, &controller, &registry, &metrics, &log);
  Status st = second.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  // Unconfigured webhooks and API answer 404.
  httplib::Client c("127.0.0.1", first.port());
  EXPECT_EQ(c.Post("/hooks/github", "{}", "application/json")->status, 404);
  EXPECT_EQ(c.Post("/api/v1/reconcile", "", "text/plain")->status, 404);
}

}  // namespace
}  // namespace gitdisc::serve
