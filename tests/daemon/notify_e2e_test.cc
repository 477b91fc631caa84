// The real `gitdisc serve` binary with signed commits, commit statuses, pull
// request previews and alerts (docs/daemon.md "Notifications"), against:
//   - a real Git remote (a bare repository behind file://) whose branch is
//     signed with an SSH key made by ssh-keygen in the test, and a pull
//     request head pushed to refs/pull/N/head;
//   - libvirt's test:///default driver (one running domain without an agent:
//     plans work, nothing is applied, so no QEMU guest is needed);
//   - a stand-in for the Git host's APIs and an alert receiver: a cpp-httplib
//     server on 127.0.0.1 that records what gitdisc posts.
// It checks that statuses arrive with the token from the token files, that an
// unsigned commit gets "error" (never success) and an alert signed with the
// generic receiver's HMAC scheme (checked here with OpenSSL), that a
// pull_request webhook yields a gitdisc/preview status on the head, that
// /api/v1/plan?rev= answers for the head, that /metrics counts the sends,
// that no token reaches the log, and that SIGTERM stops it with exit 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/stat.h>

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/notifier.h"
#include "tests/git/git_test_util.h"
#include "tests/git/signing_fixture.h"
#include "tests/support/child_process.h"

namespace gitdisc {
namespace {

using json = nlohmann::json;
using testing::ChildProcess;
using testing::FreeLoopbackPort;
using testing::SshKey;
using testing::TempDir;
using testing::WorkRepo;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGithubToken[] = "ghp-test-token-7f3e";
constexpr char kGitlabToken[] = "glpat-test-token-9a1b";
constexpr char kAlertSecret[] = "alert-secret-5c2d";
constexpr char kHookSecret[] = "hook-secret-3e4f";
constexpr char kReadToken[] = "read-token-8d0a";

std::string Hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

// "sha256=<hex HMAC-SHA256>", computed with OpenSSL, independently of gitdisc.
std::string HmacHeader(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return "sha256=" + Hex(mac, len);
}

struct Received {
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
};

// The Git host's status APIs and an alert receiver, recording every POST.
class StandIn {
 public:
  StandIn() {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      Received r{req.path, {}, req.body};
      for (const char* h : {"Authorization", "PRIVATE-TOKEN", "X-Signature", "X-Delivery-Id",
                            "X-Gitdisc-Event", "Content-Type", "User-Agent"}) {
        r.headers[h] = req.get_header_value(h);
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        received_.push_back(std::move(r));
      }
      res.status = 201;
      res.set_content("{}", "application/json");
    };
    server_.Post(R"(/gh/repos/acme/fleet/statuses/[0-9a-f]{40})", record);
    server_.Post(R"(/gl/projects/group(%2F|/)fleet/statuses/[0-9a-f]{40})", record);
    server_.Post("/alerts", record);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~StandIn() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Received> received_;
};

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds within = std::chrono::seconds(90)) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

class NotifyE2e : public ::testing::Test {
 protected:
  NotifyE2e() : alice_(work_.path(), "alice") {
    testing::Git(work_.path(), "init -q --bare remote.git");
    remote_ = "file://" + work_ / "remote.git";
    w_.Run("remote add origin " + testing::ShellQuote(remote_));
    testing::WriteText(work_ / "allowed_signers", alice_.SignerLine("alice@example.com"));
    Secret("github.token", kGithubToken);
    Secret("gitlab.token", kGitlabToken);
    Secret("alert.secret", kAlertSecret);
    Secret("hook.secret", kHookSecret);
    Secret("read.token", kReadToken);
  }
  void Secret(const std::string& name, const std::string& value) {
    testing::WriteText(work_ / name, value + "\n");
    ::chmod((work_ / name).c_str(), 0600);
  }
  // Specs selecting every VM (the test driver's one domain) with motd `version`.
  void WriteSpecs(const std::string& version) {
    w_.Write("payloads/motd/install.sh", "#!/bin/sh\necho motd " + version + "\n", 0755);
    w_.Write("web.yaml",
             "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: web}\nspec:\n"
             "  selector: {names: [\"*\"]}\n  payloads:\n"
             "    - {name: motd, version: \"" + version +
                 "\", path: payloads/motd, run: [\"./install.sh\"]}\n");
  }
  std::string Signed(const std::string& version) {
    WriteSpecs(version);
    return testing::CommitSigned(w_, testing::SshSigningOptions(alice_), "motd " + version);
  }
  std::string Unsigned(const std::string& version) {
    WriteSpecs(version);
    return w_.Commit("motd " + version + " (unsigned)");
  }
  void Push(const std::string& ref) { w_.Run("push -q -f origin HEAD:" + ref); }

  void StartServe() {
    for (int attempt = 0; attempt < 3 && !serve_; ++attempt) {
      port_ = FreeLoopbackPort();
      std::string config = work_ / "serve.yaml";
      testing::WriteText(
          config,
          "source:\n  repo: " + remote_ + "\n  branch: main\n  interval: 1h\n"
          "  pullRequests: true\n  verify: {allowedSignersFile: allowed_signers}\n"
          "connections: [\"test:///default\"]\n"
          "stateDir: " + work_ / "state" + "\n"
          "listen: 127.0.0.1:" + std::to_string(port_) + "\n"
          "webhooks:\n  github: {secretFile: hook.secret}\n"
          "api: {readTokenFile: read.token}\n"
          "notify:\n"
          "  githubStatus: {apiUrl: " + host_.Url("/gh") +
              ", repo: acme/fleet, tokenFile: github.token}\n"
          "  gitlabStatus: {apiUrl: " + host_.Url("/gl") +
              ", project: group/fleet, tokenFile: gitlab.token}\n"
          "  webhooks:\n    - {url: " + host_.Url("/alerts") +
              ", secretFile: alert.secret, events: [SignatureUnverified, ApplyFailed, Halted]}\n");
      std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + work_.path(),
                                      "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"};
      serve_ = std::make_unique<ChildProcess>(
          std::vector<std::string>{GITDISC_BINARY_DIR "/bin/gitdisc", "serve", "--config", config},
          env, work_ / "serve.log");
      if (!WaitFor([&] { return Get("/readyz").first == 200 || !serve_->Running(); })) break;
      if (!serve_->Running()) serve_.reset();  // lost the port race: try another
    }
    ASSERT_NE(serve_, nullptr);
    ASSERT_TRUE(serve_->Running()) << serve_->Log();
  }
  std::pair<int, std::string> Get(const std::string& path) {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(30, 0);
    // The plan API needs a token (api.readTokenFile); the other paths ignore it.
    auto r = c.Get(path, {{"Authorization", std::string("Bearer ") + kReadToken}});
    return r ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  }
  int GithubHook(const std::string& event, const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h = {{"X-GitHub-Event", event},
                          {"X-GitHub-Delivery", "d-" + std::to_string(++deliveries_)},
                          {"X-Hub-Signature-256", HmacHeader(kHookSecret, body)}};
    auto r = c.Post("/hooks/github", h, body, "application/json");
    return r ? r->status : 0;
  }
  // The statuses posted to the GitHub stand-in for `sha` (and context).
  std::vector<json> GithubStatuses(const std::string& sha, const std::string& context) {
    std::vector<json> out;
    for (const Received& r : host_.received()) {
      if (r.path != "/gh/repos/acme/fleet/statuses/" + sha) continue;
      json j = json::parse(r.body, nullptr, false);
      if (j.is_object() && j.value("context", "") == context) out.push_back(j);
    }
    return out;
  }
  bool HasGithubStatus(const std::string& sha, const std::string& context, const std::string& state) {
    for (const json& j : GithubStatuses(sha, context)) {
      if (j.value("state", "") == state) return true;
    }
    return false;
  }

  TempDir work_;
  WorkRepo w_;
  SshKey alice_;
  std::string remote_;
  StandIn host_;
  int port_ = 0;
  int deliveries_ = 0;
  std::unique_ptr<ChildProcess> serve_;
};

TEST_F(NotifyE2e, StatusesPreviewsAndAlertsFromTheRealDaemon) {
  std::string c1 = Signed("1");
  Push("refs/heads/main");
  StartServe();

  // 1. The signed revision's rollout, with the tokens from the files. The one
  //    VM of test:///default has no agent channel: NotManageable, which the
  //    controller does not wait for, so the rollout fails rather than
  //    staying pending for ever.
  ASSERT_TRUE(WaitFor([&] { return HasGithubStatus(c1, "gitdisc", "failure"); })) << serve_->Log();
  for (const json& j : GithubStatuses(c1, "gitdisc")) EXPECT_NE(j["state"], "success");
  EXPECT_EQ(GithubStatuses(c1, "gitdisc").back()["description"], "0/1 VMs ready, 1 NotManageable");
  auto gitlab_for = [&](const std::string& sha) {
    for (const Received& r : host_.received()) {
      if (r.path.rfind("/gl/projects/", 0) == 0 && r.path.find(sha) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(WaitFor([&] { return gitlab_for(c1); })) << serve_->Log();
  bool gitlab_seen = false;
  for (const Received& r : host_.received()) {
    if (r.path.rfind("/gl/projects/", 0) == 0 && r.path.find(c1) != std::string::npos) {
      gitlab_seen = true;
      EXPECT_EQ(r.headers.at("PRIVATE-TOKEN"), kGitlabToken);
      EXPECT_NE(json::parse(r.body)["state"], "success");
      EXPECT_EQ(json::parse(r.body)["name"], "gitdisc");
    }
    if (r.path.rfind("/gh/", 0) == 0) {
      EXPECT_EQ(r.headers.at("Authorization"), std::string("Bearer ") + kGithubToken);
      EXPECT_EQ(r.headers.at("User-Agent"), "gitdisc");
    }
  }
  EXPECT_TRUE(gitlab_seen);

  // 2. An unsigned commit on the branch: error on it, an alert, the fleet
  //    stays on the signed revision.
  std::string c2 = Unsigned("2");
  Push("refs/heads/main");
  ASSERT_EQ(GithubHook("push", R"({"ref":"refs/heads/main","after":")" + c2 + "\"}"), 202);
  ASSERT_TRUE(WaitFor([&] { return HasGithubStatus(c2, "gitdisc", "error"); })) << serve_->Log();
  for (const json& j : GithubStatuses(c2, "gitdisc")) {
    EXPECT_NE(j["state"], "success");
    EXPECT_THAT(j["description"].get<std::string>(), HasSubstr("signature: unsigned"));
  }
  auto status = json::parse(Get("/api/v1/status").second);
  EXPECT_EQ(status["source"]["lastValidRevision"], c1);
  EXPECT_EQ(status["source"]["signatureUnverified"]["commit"], c2);
  Received alert;
  ASSERT_TRUE(WaitFor([&] {
    for (const Received& r : host_.received()) {
      if (r.path == "/alerts" && r.headers.at("X-Gitdisc-Event") == "SignatureUnverified") {
        alert = r;
        return true;
      }
    }
    return false;
  })) << serve_->Log();
  EXPECT_EQ(alert.headers.at("X-Signature"), HmacHeader(kAlertSecret, alert.body));
  EXPECT_FALSE(alert.headers.at("X-Delivery-Id").empty());
  json alert_body = json::parse(alert.body);
  EXPECT_EQ(alert_body["event"], "SignatureUnverified");
  EXPECT_EQ(alert_body["revision"], c1);
  EXPECT_THAT(alert_body["text"].get<std::string>(), HasSubstr(c2.substr(0, 12)));

  // 3. A pull request head pushed to refs/pull/1/head plus a pull_request
  //    webhook: a preview status on that head, and its plan through the API.
  w_.Run("checkout -q -b topic " + c1);
  std::string head = Signed("3");
  Push("refs/pull/1/head");
  std::string pr = R"({"action":"opened","number":1,"pull_request":{"head":{"sha":")" + head +
                   R"("},"base":{"ref":"main"}}})";
  ASSERT_EQ(GithubHook("pull_request", pr), 202);
  ASSERT_TRUE(WaitFor([&] {
    return HasGithubStatus(head, "gitdisc/preview", "success");
  })) << serve_->Log();
  json preview = GithubStatuses(head, "gitdisc/preview").back();
  EXPECT_EQ(preview["description"],
            "nothing to do now; 1 VM blocked (NotManageable), pending there: motd");
  auto plan = Get("/api/v1/plan?rev=" + head);
  ASSERT_EQ(plan.first, 200) << plan.second;
  EXPECT_EQ(json::parse(plan.second)["revision"], head);

  // An unsigned pull request head: the preview says it would not be applied.
  std::string unsigned_head = Unsigned("4");
  Push("refs/pull/2/head");
  std::string pr2 = R"({"action":"opened","number":2,"pull_request":{"head":{"sha":")" +
                    unsigned_head + R"("},"base":{"ref":"main"}}})";
  ASSERT_EQ(GithubHook("pull_request", pr2), 202);
  ASSERT_TRUE(WaitFor([&] {
    return HasGithubStatus(unsigned_head, "gitdisc/preview", "failure");
  })) << serve_->Log();
  EXPECT_THAT(GithubStatuses(unsigned_head, "gitdisc/preview").back()["description"].get<std::string>(),
              HasSubstr("signature: unsigned"));

  // 4. Metrics count the sends; no token or secret reached the log.
  std::string metrics = Get("/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("gitdisc_notify_requests_total{result=\"ok\",target=\"github_status\"}"));
  EXPECT_THAT(metrics, HasSubstr("gitdisc_notify_requests_total{result=\"ok\",target=\"webhook\"}"));
  std::string log = serve_->Log();
  for (const char* secret : {kGithubToken, kGitlabToken, kAlertSecret, kHookSecret, kReadToken}) {
    EXPECT_THAT(log, Not(HasSubstr(secret)));
  }

  // 5. SIGTERM: a clean exit.
  serve_->Signal(SIGTERM);
  auto code = serve_->Wait(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value()) << serve_->Log();
  EXPECT_EQ(*code, 0) << serve_->Log();
}

// The real poster against real HTTP on loopback: headers arrive, a silent
// server ends at the deadline, a redirect is not followed.
TEST(HttplibPoster, PostsHeadersAndBodyWithinItsDeadlineAndNeverFollowsARedirect) {
  httplib::Server server;
  std::mutex mu;
  std::string got_auth, got_body;
  server.Post("/ok", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    got_auth = req.get_header_value("Authorization");
    got_body = req.body;
    res.status = 201;
  });
  server.Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    res.status = 201;
  });
  server.Post("/moved", [&](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("http://127.0.0.1:9/elsewhere");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::string base = "http://127.0.0.1:" + std::to_string(port);

  serve::HttplibPoster poster;
  serve::OutgoingRequest r;
  r.url = base + "/ok";
  r.headers = {{"Authorization", "Bearer t0k"}};
  r.body = R"({"state":"success"})";
  EXPECT_EQ(poster.Post(r, std::chrono::seconds(5)).http_status, 201);
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(got_auth, "Bearer t0k");
    EXPECT_EQ(got_body, r.body);
  }
  r.url = base + "/slow";
  auto start = std::chrono::steady_clock::now();
  serve::PostResult slow = poster.Post(r, std::chrono::milliseconds(300));
  EXPECT_EQ(slow.http_status, 0);
  EXPECT_FALSE(slow.error.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  r.url = base + "/moved";
  EXPECT_EQ(poster.Post(r, std::chrono::seconds(5)).http_status, 302);
  r.url = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort()) + "/nobody";
  EXPECT_EQ(poster.Post(r, std::chrono::seconds(2)).http_status, 0);
  server.stop();
  t.join();
}

}  // namespace
}  // namespace gitdisc
