// `gitdisc diff --base` and `gitdisc validate` on real Git histories, run
// in-process through RunCli.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "tests/git/git_test_util.h"
#include "tests/git/spec_fixture.h"

namespace gitdisc {
namespace {

using testing::FixturePayload;
using testing::SetYaml;
using testing::TempDir;
using testing::WorkRepo;

struct CliRun {
  int code;
  std::string out, err;
};

class DiffCliTest : public ::testing::Test {
 protected:
  TempDir state_;
  WorkRepo w_;

  CliRun Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "gitdisc");
    args.push_back("--state-dir");
    args.push_back(state_.path());
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), cli::Io{out, err, false});
    return CliRun{code, out.str(), err.str()};
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

}  // namespace
}  // namespace gitdisc
