#include "serve/serve_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/file_util.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;

class ServeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gitdisc-serve-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  std::string WriteSecret(const std::string& name, const std::string& value, int mode = 0600) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, value, mode).ok());
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::vector<std::string> Errors(const ServeConfigResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.diagnostics) out.push_back(d.ToString());
    return out;
  }

  std::string dir_;
};

TEST_F(ServeConfigTest, ParsesTheDocumentedExample) {
  std::string gh = WriteSecret("github.secret", "It's a Secret to Everybody\n");
  std::string gl = WriteSecret("gitlab.token", "gl-token");
  std::string ge = WriteSecret("generic.secret", "generic\r\n");
  std::string api = WriteSecret("api.token", "api-token", 0640);
  std::string text =
      "source: {repo: /srv/fleet.git, branch: prod, path: specs, interval: 1m}\n"
      "connections: [\"qemu:///system\", \"qemu+ssh://h2/system\"]\n"
      "stateDir: /var/lib/gitdisc\n"
      "listen: 127.0.0.1:9420\n"
      "webhooks:\n"
      "  github: {secretFile: " +
      gh +
      "}\n"
      "  gitlab: {tokenFile: " +
      gl +
      "}\n"
      "  generic: {secretFile: " +
      ge +
      "}\n"
      "api: {tokenFile: " +
      api + "}\n";
  auto r = ParseServeConfig(text, dir_ + "/config.yaml");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(Errors(r));
  const ServeConfig& c = *r.config;
  EXPECT_EQ(c.source.repo, "/srv/fleet.git");
  EXPECT_EQ(c.source.branch, "prod");
  EXPECT_EQ(c.source.path, "specs");
  EXPECT_EQ(c.source.interval, std::chrono::minutes(1));
  EXPECT_THAT(c.connections, ::testing::ElementsAre("qemu:///system", "qemu+ssh://h2/system"));
  EXPECT_EQ(c.listen_host, "127.0.0.1");
  EXPECT_EQ(c.listen_port, 9420);
  ASSERT_TRUE(c.github_secret);
  EXPECT_EQ(c.github_secret->Reveal(), "It's a Secret to Everybody");
  EXPECT_EQ(c.generic_secret->Reveal(), "generic");
  EXPECT_EQ(c.gitlab_token->Reveal(), "gl-token");
  EXPECT_EQ(c.api_token->Reveal(), "api-token");
}

TEST_F(ServeConfigTest, DefaultsApplyWhenOnlyTheRepoIsGiven) {
  auto r = ParseServeConfig("source: {repo: .}\n", "c.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->source.branch, "main");
  EXPECT_EQ(r.config->source.interval, std::chrono::minutes(1));
  EXPECT_THAT(r.config->connections, ::testing::ElementsAre("qemu:///system"));
  EXPECT_EQ(r.config->listen_port, 9420);
  EXPECT_FALSE(r.config->github_secret);
  EXPECT_FALSE(r.config->api_token);
}

TEST_F(ServeConfigTest, ReportsEveryProblemWithItsPosition) {
  std::string text =
      "source:\n"
      "  repo: /x\n"
      "  intervall: 1m\n"     // 3:3 unknown key
      "listen: nowhere\n"     // 4:9 bad listen
      "stateDir: relative\n"  // 5:11 not absolute
      "webhooks:\n"
      "  gitHub: {secretFile: x}\n";  // 7:3 unknown provider
  auto r = ParseServeConfig(text, "cfg.yaml");
  EXPECT_FALSE(r.config);
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 4u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], HasSubstr("cfg.yaml:3:3: error: unknown key 'intervall' in source"));
  EXPECT_THAT(e[1], HasSubstr("cfg.yaml:4:9: error: listen: 'nowhere' is not HOST:PORT"));
  EXPECT_THAT(e[2], HasSubstr("cfg.yaml:5:11: error: stateDir must be an absolute path"));
  EXPECT_THAT(e[3], HasSubstr("cfg.yaml:7:3: error: unknown key 'gitHub' in webhooks"));
}

TEST_F(ServeConfigTest, RejectsBadDurationsAndMissingRepo) {
  auto r = ParseServeConfig("source: {branch: main, interval: soon}\n", "c.yaml");
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], HasSubstr("c.yaml:1:34: error: source.interval: 'soon' is not a duration"));
  EXPECT_THAT(e[1], HasSubstr("source: 'repo' is required"));
}

TEST_F(ServeConfigTest, ReportsInvalidYamlWithPosition) {
  auto r = ParseServeConfig("source: {repo: [\n", "c.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_THAT(r.diagnostics[0].ToString(), HasSubstr("c.yaml:2:1: error: invalid YAML"));
}

TEST_F(ServeConfigTest, RefusesWorldReadableSecretWithoutQuotingIt) {
  std::string gh = WriteSecret("github.secret", "hunter2-top-secret", 0644);
  auto r = ParseServeConfig("source: {repo: .}\nwebhooks: {github: {secretFile: " + gh + "}}\n",
                            dir_ + "/c.yaml");
  EXPECT_FALSE(r.config);
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("is accessible to other users (mode 0644)"));
  EXPECT_THAT(e[0], HasSubstr(gh));
  EXPECT_THAT(e[0], ::testing::Not(HasSubstr("hunter2")));
}

TEST_F(ServeConfigTest, ResolvesSecretPathsRelativeToTheConfig) {
  WriteSecret("api.token", "tok");
  auto r = ParseServeConfig("source: {repo: .}\napi: {tokenFile: api.token}\n", dir_ + "/c.yaml");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config->api_token->Reveal(), "tok");
  EXPECT_EQ(r.config->api_token->file(), dir_ + "/api.token");
}

TEST_F(ServeConfigTest, MissingAndEmptySecretFilesAreErrors) {
  WriteSecret("empty", "\n");
  auto r = ParseServeConfig(
      "source: {repo: .}\napi: {tokenFile: nope}\nwebhooks: {gitlab: {tokenFile: empty}}\n",
      dir_ + "/c.yaml");
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], HasSubstr("c.yaml:2:18: error: secret file " + dir_ + "/nope"));
  EXPECT_THAT(e[1], HasSubstr("is empty"));
}

TEST_F(ServeConfigTest, DuplicateKeysAndConnectionsAreErrors) {
  auto r = ParseServeConfig("source: {repo: .}\nsource: {repo: ..}\nconnections: [a, a]\n", "c");
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], HasSubstr("duplicate key 'source'"));
  EXPECT_THAT(e[1], HasSubstr("duplicate connection 'a'"));
}

// A syntactically valid allowed_signers line (the config checks the format only).
std::string SignerLine() {
  // "ssh-ed25519" + 32 key bytes, base64.
  return "alice@example.com ssh-ed25519 "
         "AAAAC3NzaC1lZDI1NTE5AAAAIEvtYkEFkOgL/sj3v+q0h4ctUC2b29yfyHTQPHovgA44\n";
}

TEST_F(ServeConfigTest, ReadsVerificationPullRequestsAndNotifications) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/allowed_signers", SignerLine()).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/trusted.gpg", "keys").ok());
  WriteSecret("gh.token", "ghp-token\n");
  WriteSecret("gl.token", "glpat-token");
  WriteSecret("alert.secret", "alert");
  std::string text =
      "source:\n"
      "  repo: https://git.example/fleet.git\n"
      "  pullRequests: true\n"
      "  verify: {allowedSignersFile: allowed_signers, gpgKeyringFile: trusted.gpg, mode: all}\n"
      "notify:\n"
      "  githubStatus: {apiUrl: https://api.github.com/, repo: acme/fleet, tokenFile: gh.token}\n"
      "  gitlabStatus: {apiUrl: https://gitlab.example/api/v4, project: group/fleet,"
      " tokenFile: gl.token}\n"
      "  webhooks:\n"
      "    - {url: https://hooks.slack.example/T/B/X, secretFile: alert.secret,"
      " events: [ApplyFailed, Halted, Drifted]}\n";
  auto r = ParseServeConfig(text, dir_ + "/config.yaml");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(Errors(r));
  const ServeConfig& c = *r.config;
  EXPECT_TRUE(c.source.pull_requests);
  EXPECT_EQ(c.source.verify.allowed_signers_file, dir_ + "/allowed_signers");
  EXPECT_EQ(c.source.verify.gpg_keyring_file, dir_ + "/trusted.gpg");
  EXPECT_EQ(c.source.verify.mode, specs::VerifyMode::kAll);
  ASSERT_TRUE(c.notify.github_status);
  EXPECT_EQ(c.notify.github_status->api_url, "https://api.github.com");
  EXPECT_EQ(c.notify.github_status->repo, "acme/fleet");
  EXPECT_EQ(c.notify.github_status->token.Reveal(), "ghp-token");
  ASSERT_TRUE(c.notify.gitlab_status);
  EXPECT_EQ(c.notify.gitlab_status->repo, "group/fleet");
  ASSERT_EQ(c.notify.webhooks.size(), 1u);
  EXPECT_THAT(c.notify.webhooks[0].events,
              ::testing::ElementsAre("ApplyFailed", "Halted", "Drifted"));
  EXPECT_EQ(c.notify.webhooks[0].secret.Reveal(), "alert");
}

TEST_F(ServeConfigTest, NotifyAndVerifyProblemsAreLocatedErrors) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/bad_signers", "alice@example.com not-a-key\n").ok());
  WriteSecret("open.token", "t", 0644);
  std::string text =
      "source:\n"
      "  repo: /srv/fleet.git\n"
      "  pullRequests: yes please\n"
      "  verify: {allowedSignersFile: bad_signers, mode: some}\n"
      "notify:\n"
      "  githubStatus: {apiUrl: ftp://x, repo: fleet, tokenFile: open.token}\n"
      "  webhooks:\n"
      "    - {url: https://x.example, events: [ApplyFailed, Explosion]}\n";
  auto r = ParseServeConfig(text, dir_ + "/config.yaml");
  EXPECT_FALSE(r.config);
  std::string all = ::testing::PrintToString(Errors(r));
  EXPECT_THAT(all, HasSubstr("config.yaml:3:17: error: source.pullRequests must be true or false"));
  EXPECT_THAT(all, HasSubstr("bad_signers:1: error:"));
  EXPECT_THAT(all, HasSubstr("source.verify.mode: verification mode must be 'tip' or 'all'"));
  EXPECT_THAT(all, HasSubstr("notify.githubStatus.apiUrl must be an http:// or https:// URL"));
  EXPECT_THAT(all, HasSubstr("notify.githubStatus.repo must be OWNER/NAME"));
  EXPECT_THAT(all, HasSubstr("accessible to other users"));
  EXPECT_THAT(all, HasSubstr("unknown event 'Explosion'"));
  EXPECT_THAT(all, HasSubstr("notify.webhooks[0]: 'secretFile' is required"));
  EXPECT_EQ(all.find("ApplyFailed'"), std::string::npos);
}

TEST_F(ServeConfigTest, CacheBoundAndPoolGrace) {
  auto defaults = ParseServeConfig("source: {repo: /r}\n", dir_ + "/c.yaml");
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->cache.max_bytes, 10ull << 30);
  EXPECT_EQ(defaults.config->cache.pool_grace, std::chrono::hours(1));
  auto r = ParseServeConfig("source: {repo: /r}\ncache: {maxBytes: 512MiB, poolGrace: 1h30m}\n",
                            dir_ + "/c.yaml");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(Errors(r));
  EXPECT_EQ(r.config->cache.max_bytes, 512ull << 20);
  EXPECT_EQ(r.config->cache.pool_grace, std::chrono::minutes(90));
  auto plain = ParseServeConfig("source: {repo: /r}\ncache: {maxBytes: 1048576}\n", "c.yaml");
  ASSERT_TRUE(plain.config);
  EXPECT_EQ(plain.config->cache.max_bytes, 1048576u);
  auto bad = ParseServeConfig(
      "source: {repo: /r}\ncache: {maxBytes: 10 gigs, poolGrace: soon, size: 1}\n", "c.yaml");
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(Errors(bad), ::testing::ElementsAre(HasSubstr("c.yaml:2:19: error: cache.maxBytes"),
                                                  HasSubstr("c.yaml:2:39: error: cache.poolGrace"),
                                                  HasSubstr("unknown key 'size' in cache")));
}

TEST(ParseListen, AcceptsPortZeroAndBracketedIpv6) {
  auto r = ParseServeConfig("source: {repo: .}\nlisten: \"[::1]:0\"\n", "c");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->listen_host, "::1");
  EXPECT_EQ(r.config->listen_port, 0);
}

TEST_F(ServeConfigTest, ListenMustNameAHost) {
  auto r = ParseServeConfig("source: {repo: .}\nlisten: \":9420\"\n", "c.yaml");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_THAT(r.diagnostics[0].ToString(),
              HasSubstr("c.yaml:2:9: error: listen: ':9420' names no host; write 127.0.0.1:9420"));
  auto any = ParseServeConfig("source: {repo: .}\nlisten: 0.0.0.0:9420\n", "c.yaml");
  ASSERT_TRUE(any.config);
  EXPECT_EQ(any.config->listen_host, "0.0.0.0");
}

TEST_F(ServeConfigTest, AllowedHostsArtifactsAndTheReadToken) {
  std::string read = WriteSecret("read.token", "read-token");
  std::string roots = dir_ + "/artifacts";
  ASSERT_TRUE(MakeDirs(roots + "/debs").ok());
  ASSERT_EQ(::symlink((roots + "/debs").c_str(), (dir_ + "/link").c_str()), 0);
  auto r = ParseServeConfig("source: {repo: .}\n"
                            "allowedHosts: [gitdisc.example, 10.0.0.5]\n"
                            "artifacts: {fileRoots: [" + roots + ", " + dir_ + "/link], allowHttp: true}\n"
                            "api: {readTokenFile: " + read + "}\n",
                            "c.yaml");
  ASSERT_TRUE(r.config) << ::testing::PrintToString(Errors(r));
  EXPECT_THAT(*r.config->allowed_hosts, ::testing::ElementsAre("gitdisc.example", "10.0.0.5"));
  // Roots are resolved once, so a symlink named in the config is followed
  // here and never again.
  EXPECT_THAT(r.config->artifacts.file_roots, ::testing::ElementsAre(roots, roots + "/debs"));
  EXPECT_TRUE(r.config->artifacts.allow_http);
  EXPECT_FALSE(r.config->api_token);
  EXPECT_EQ(r.config->read_token->Reveal(), "read-token");
  auto defaults = ParseServeConfig("source: {repo: .}\n", "c.yaml");
  ASSERT_TRUE(defaults.config);
  EXPECT_FALSE(defaults.config->allowed_hosts);
  EXPECT_TRUE(defaults.config->artifacts.file_roots.empty());
  EXPECT_FALSE(defaults.config->artifacts.allow_http);
}

TEST_F(ServeConfigTest, BadHostsRootsAndRepoCredentialsAreLocatedErrors) {
  auto r = ParseServeConfig("source: {repo: \"https://ghp_s3cr3t@github.com/o/fleet.git\"}\n"
                            "allowedHosts: [\"http://x\"]\n"
                            "artifacts: {fileRoots: [relative, /no/such/folder], allowHttp: yes}\n"
                            "api: {}\n",
                            "c.yaml");
  ASSERT_FALSE(r.config);
  auto e = Errors(r);
  ASSERT_EQ(e.size(), 6u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], HasSubstr("c.yaml:1:16: error: source.repo carries credentials"));
  EXPECT_THAT(e[1], HasSubstr("allowedHosts: 'http://x' is not a host name"));
  EXPECT_THAT(e[2], HasSubstr("'relative' must be an absolute path"));
  EXPECT_THAT(e[3], HasSubstr("/no/such/folder"));
  EXPECT_THAT(e[4], HasSubstr("artifacts.allowHttp must be true or false"));
  EXPECT_THAT(e[5], HasSubstr("api: 'tokenFile' or 'readTokenFile' is required"));
  for (const auto& line : e) EXPECT_THAT(line, ::testing::Not(HasSubstr("ghp_s3cr3t")));
}

}  // namespace
}  // namespace gitdisc::serve
