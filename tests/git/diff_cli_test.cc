// `gitdisc diff --base` and `gitdisc validate` on real Git histories, run
// in-process through RunCli; with --allowed-signers / --gpg-keyring on
// histories signed with keys made in the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_run_for_test.h"
#include "tests/git/git_test_util.h"
#include "tests/git/signing_fixture.h"
#include "tests/git/spec_fixture.h"

namespace gitdisc {
namespace {

using testing::FixturePayload;
using testing::SetYaml;
using testing::TempDir;
using testing::WorkRepo;

using cli::CliRun;

class DiffCliTest : public ::testing::Test {
 protected:
  TempDir state_;
  WorkRepo w_;

  CliRun Cli(std::vector<std::string> args) {
    args.push_back("--state-dir");
    args.push_back(state_.path());
    return cli::RunCliForTest(args);
  }
  CliRun Diff(const std::string& base, const std::string& rev, const std::string& repo = "") {
    std::vector<std::string> args = {"diff", "--repo", repo.empty() ? w_.path() : repo, "--base",
                                     base};
    if (!rev.empty()) {
      args.push_back("--rev");
      args.push_back(rev);
    }
    return Cli(args);
  }

  void WritePayload(const std::string& name, const std::string& text) {
    w_.Write("payloads/" + name + "/install.sh", "#!/bin/sh\n" + text + "\n", 0755);
  }
  std::string Base() {
    WritePayload("motd", "echo motd");
    WritePayload("ca", "echo ca");
    w_.Write("web.yaml", SetYaml("web", {{"motd"}, {"ca", "1", "path: payloads/ca"}}));
    return w_.Commit("base");
  }
};

TEST_F(DiffCliTest, NoChangeExitsZero) {
  std::string c1 = Base();
  w_.Write("README.md", "docs only\n");
  std::string c2 = w_.Commit("docs");
  CliRun r = Diff(c1, c2);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no changes"), std::string::npos) << r.out;
  // --rev defaults to the branch tip.
  EXPECT_EQ(Diff(c1, "").code, 0);
}

TEST_F(DiffCliTest, UpgradesAddsAndRemovesAreChanges) {
  std::string c1 = Base();
  WritePayload("motd", "echo motd v2");
  w_.Write("web.yaml", SetYaml("web", {{"motd", "2"}, {"sysctl", "1", "path: payloads/ca"}}));
  w_.Write("db.yaml", SetYaml("db", {{"motd"}}, "role: db"));
  std::string c2 = w_.Commit("upgrade");
  CliRun r = Diff(c1, c2);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.out.find("+ set db"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("~ set web"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("^ motd    1 → 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("- ca "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ sysctl  1"), std::string::npos) << r.out;

  CliRun j = Cli({"diff", "--repo", w_.path(), "--base", c1, "--rev", c2, "-o", "json"});
  EXPECT_EQ(j.code, 1);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["schemaVersion"], 1);
  EXPECT_EQ(doc["base"], c1);
  EXPECT_EQ(doc["revision"], c2);
  EXPECT_EQ(doc["changed"], true);
  ASSERT_EQ(doc["sets"].size(), 2u);
  EXPECT_EQ(doc["sets"][0]["name"], "db");
  EXPECT_EQ(doc["sets"][0]["change"], "added");
  const auto& web = doc["sets"][1];
  EXPECT_EQ(web["change"], "changed");
  bool saw_upgrade = false;
  for (const auto& p : web["payloads"]) {
    if (p["name"] == "motd") {
      saw_upgrade = true;
      EXPECT_EQ(p["change"], "upgraded");
      EXPECT_EQ(p["oldVersion"], "1");
      EXPECT_EQ(p["newVersion"], "2");
      EXPECT_NE(p["oldDigest"], p["newDigest"]);
    }
  }
  EXPECT_TRUE(saw_upgrade);
}

TEST_F(DiffCliTest, ContentChangeWithoutVersionBumpWarns) {
  std::string c1 = Base();
  WritePayload("motd", "echo sneaky edit");
  std::string c2 = w_.Commit("edit without bump");
  CliRun r = Diff(c1, c2);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("~ motd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("content changed without a version bump"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: web/motd"), std::string::npos) << r.out;
}

TEST_F(DiffCliTest, RolloutSuspendSelectorAndTimeoutChanges) {
  std::string c1 = Base();
  w_.Write("web.yaml", SetYaml("web",
                               {{"motd", "1", "path: payloads/motd", "      timeout: 5m\n"},
                                {"ca", "1", "path: payloads/ca"}},
                               "role: web, env: prod", "maxParallel: 50%", true));
  std::string c2 = w_.Commit("rollout");
  CliRun r = Diff(c1, c2);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("selector  matchLabels{role=web} → matchLabels{env=prod,role=web}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rollout   maxParallel=1 maxFailures=0 canary=0 → maxParallel=50%"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("suspend   false → true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("timeout 10m → 5m; not re-applied"), std::string::npos) << r.out;
}

TEST_F(DiffCliTest, InvalidSpecsOnEitherSideExitTwoWithDiagnostics) {
  std::string c1 = Base();
  w_.Write("web.yaml", SetYaml("web", {{"motd", "1", "path: payloads/nope"}}));
  std::string bad = w_.Commit("broken");
  CliRun r = Diff(c1, bad);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("are invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("web.yaml:"), std::string::npos) << r.err;
  CliRun r2 = Diff(bad, c1);
  EXPECT_EQ(r2.code, 2);
  EXPECT_NE(r2.err.find("--base"), std::string::npos) << r2.err;
}

TEST_F(DiffCliTest, UnknownRevisionAndUnreachableRepoExitTwo) {
  std::string c1 = Base();
  CliRun r = Diff("no-such-rev", c1);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown revision 'no-such-rev'"), std::string::npos) << r.err;
  EXPECT_EQ(Diff(c1, "0123456789abcdef0123").code, 2);
  TempDir nowhere;
  CliRun u = Diff("HEAD~1", "", "file://" + (nowhere / "missing.git"));
  EXPECT_EQ(u.code, 2);
  EXPECT_NE(u.err.find("gitdisc diff: "), std::string::npos);
  CliRun plain = Diff("HEAD", "", nowhere.path());
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("not a Git repository"), std::string::npos) << plain.err;
}

TEST_F(DiffCliTest, WorksThroughFileRemoteMirrorAndTags) {
  std::string c1 = Base();
  w_.Run("tag v1");
  WritePayload("motd", "echo motd v2");
  w_.Write("web.yaml", SetYaml("web", {{"motd", "2"}, {"ca", "1", "path: payloads/ca"}}));
  std::string c2 = w_.Commit("v2");
  TempDir remote;
  testing::Git(remote.path(), "clone -q --bare " + testing::ShellQuote(w_.path()) + " r.git");
  CliRun r = Diff("v1", "", "file://" + (remote / "r.git"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.out.find("^ motd"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(state_ / "mirrors"));
}

TEST_F(DiffCliTest, SpecPathInsideABiggerRepo) {
  w_.Write("fleet/payloads/motd/install.sh", "#!/bin/sh\n", 0755);
  w_.Write("fleet/web.yaml", SetYaml("web", {{"motd"}}));
  w_.Write("src/other.yaml", "not: a spec\n");
  std::string c1 = w_.Commit("one");
  w_.Write("fleet/payloads/motd/install.sh", "#!/bin/sh\necho 2\n", 0755);
  w_.Write("fleet/web.yaml", SetYaml("web", {{"motd", "2"}}));
  std::string c2 = w_.Commit("two");
  CliRun r = Cli({"diff", "--repo", w_.path(), "--path", "fleet", "--base", c1, "--rev", c2});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.out.find("^ motd  1 → 2"), std::string::npos) << r.out;
}

TEST_F(DiffCliTest, ValidateReadsCommittedSpecsAndIgnoresUncommittedEdits) {
  std::string c1 = Base();
  w_.Write("web.yaml", "this: is not committed\n");
  CliRun dirty = Cli({"validate", "--repo", w_.path()});
  EXPECT_EQ(dirty.code, 0) << dirty.err;
  EXPECT_NE(dirty.err.find("uncommitted"), std::string::npos) << dirty.err;

  w_.Write("web.yaml", "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: Web}\n");
  std::string c2 = w_.Commit("broken");
  CliRun broken = Cli({"validate", "--repo", w_.path()});
  EXPECT_EQ(broken.code, 1) << broken.out << broken.err;
  EXPECT_NE(broken.err.find("web.yaml:"), std::string::npos) << broken.err;
  // An older revision is still valid.
  EXPECT_EQ(Cli({"validate", "--repo", w_.path(), "--rev", c1}).code, 0);
  EXPECT_EQ(Cli({"validate", "--repo", w_.path(), "--rev", "no-such-rev"}).code, 2);
  (void)c2;
}

TEST_F(DiffCliTest, DirtyWorkingTreeIsNotedAndIgnored) {
  std::string c1 = Base();
  w_.Write("web.yaml", "this: is not committed\n");
  CliRun r = Diff(c1, "");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("uncommitted changes (web.yaml)"), std::string::npos) << r.err;
}

// Signed commits only, on the command line (docs/git-source.md "Signed commits").
class SignedCliTest : public DiffCliTest {
 protected:
  SignedCliTest() : alice_(keys_.path(), "alice"), mallory_(keys_.path(), "mallory") {
    testing::WriteText(signers_, alice_.SignerLine("alice@example.com"));
  }
  std::string CommitBy(const testing::SshKey& key, const std::string& version) {
    WritePayload("motd", "echo motd " + version);
    w_.Write("web.yaml", SetYaml("web", {{"motd", version}}));
    return testing::CommitSigned(w_, testing::SshSigningOptions(key), "motd " + version);
  }
  CliRun Validate(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"validate", "--repo", w_.path(), "--allowed-signers",
                                     signers_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  }

  TempDir keys_;
  testing::SshKey alice_;
  testing::SshKey mallory_;
  std::string signers_ = keys_ / "allowed_signers";
};

TEST_F(SignedCliTest, ValidateAcceptsASignedTipAndSaysWhoSignedIt) {
  std::string tip = CommitBy(alice_, "1");
  CliRun r = Validate({"-v"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("signature: ssh signature of commit " + tip.substr(0, 7) +
                       " by alice@example.com (SHA256:"),
            std::string::npos)
      << r.out;
  CliRun json = Validate({"-o", "json"});
  EXPECT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["signature"]["verified"], true);
  EXPECT_EQ(j["signature"]["signer"], "alice@example.com");
}

TEST_F(SignedCliTest, ValidateExitsOneSayingSignatureAndWhy) {
  CommitBy(alice_, "1");
  Base();  // unsigned
  CliRun unsigned_tip = Validate();
  EXPECT_EQ(unsigned_tip.code, 1);
  EXPECT_NE(unsigned_tip.err.find("error: signature: unsigned"), std::string::npos)
      << unsigned_tip.err;
  EXPECT_NE(unsigned_tip.err.find("its specs were not read"), std::string::npos);

  CommitBy(mallory_, "2");
  CliRun unknown = Validate();
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("error: signature: unknown key: SHA256:"), std::string::npos)
      << unknown.err;
  CliRun json = Validate({"-o", "json"});
  EXPECT_EQ(json.code, 1);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["signature"]["problem"], "unknown key");
  EXPECT_EQ(j["diagnostics"][0]["severity"], "error");
}

TEST_F(SignedCliTest, ModeAllRefusesATipOverAnUnsignedCommitThatModeTipAccepts) {
  std::string first = CommitBy(alice_, "1");
  Base();  // unsigned, in the middle
  CommitBy(alice_, "3");
  EXPECT_EQ(Validate().code, 0) << "mode tip: the tip is signed";
  CliRun all = Validate({"--verify-mode", "all"});
  EXPECT_EQ(all.code, 1);
  EXPECT_NE(all.err.find("since the last verified revision"), std::string::npos) << all.err;
  EXPECT_EQ(Validate({"--verify-mode", "all", "--rev", first}).code, 0);
  EXPECT_EQ(Validate({"--verify-mode", "sometimes"}).code, 2);
}

TEST_F(SignedCliTest, DiffRefusesAnUnverifiedSide) {
  std::string signed_base = CommitBy(alice_, "1");
  std::string unsigned_rev = Base();
  CliRun r = Cli({"diff", "--repo", w_.path(), "--allowed-signers", signers_, "--base",
                  signed_base, "--rev", unsigned_rev});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--rev is not verified"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("signature: unsigned"), std::string::npos) << r.err;
  // Without verification the same diff runs.
  EXPECT_EQ(Diff(signed_base, unsigned_rev).code, 1);
}

TEST_F(SignedCliTest, AFolderThatIsNoRepositoryCannotBeVerified) {
  TempDir plain;
  testing::WriteText(plain / "web.yaml", SetYaml("web", {{"motd"}}));
  CliRun r = Cli({"validate", "--repo", plain.path(), "--allowed-signers", signers_});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  CliRun bad = Cli({"validate", "--repo", w_.path(), "--allowed-signers", keys_ / "missing"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("allowed signers file"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace gitdisc
