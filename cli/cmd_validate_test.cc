// `gitdisc validate` run in-process through RunCli, on the example fleet and on
// a folder of broken specs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_run_for_test.h"
#include "specs/test_folder.h"

namespace gitdisc::cli {
namespace {

using Outcome = CliRun;

Outcome Validate(std::vector<std::string> args) {
  args.insert(args.begin(), "validate");
  return RunCliForTest(args);
}

TEST(CmdValidate, ExampleFleetIsValid) {
  Outcome r = Validate({"--repo", GITDISC_SOURCE_DIR, "--path", "examples/fleet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "valid: 3 PayloadSets, 6 payloads\n");
  EXPECT_EQ(r.err, "");
}

TEST(CmdValidate, VerboseListsSetsAndIgnoredDocuments) {
  specs::TestFolder dir;
  dir.Write("fleet/a.yaml",
            "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: a}\nspec:\n"
            "  selector: {names: [\"*\"]}\n"
            "  payloads: [{name: p, version: \"1\", path: p, run: [./install.sh]}]\n"
            "---\napiVersion: v1\nkind: ConfigMap\n");
  dir.Write("fleet/p/install.sh", "#!/bin/sh\n", 0755);
  Outcome r = Validate({"--repo", dir.path(), "--path", "fleet", "-v"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "set a (fleet/a.yaml:1:1): 1 payload: p\n"
            "ignored fleet/a.yaml:8:1 (document 2): apiVersion 'v1' is not gitdisc/v1\n"
            "valid: 1 PayloadSet, 1 payload\n");
}

// Every problem of this folder, one diagnostic each, in file order.
void WriteBrokenFleet(const specs::TestFolder& dir) {
  dir.Write("specs/a-web.yaml",
            "apiVersion: gitdisc/v1\n"            // 1
            "kind: PayloadSet\n"                  // 2
            "metadata:\n"                         // 3
            "  name: Web\n"                       // 4  bad name
            "spec:\n"                             // 5
            "  selector:\n"                       // 6
            "    matchLabel: {role: web}\n"       // 7  misspelled key
            "  payloads:\n"                       // 8
            "    - name: nginx\n"                 // 9  no version
            "      path: payloads/nginx\n"        // 10
            "      run: [./install.sh]\n"         // 11
            "      timeout: 5 minutes\n"          // 12 bad duration
            "  rollout: {maxParallel: 150%}\n");  // 13 bad percent
  dir.Write("specs/b-db.yaml",
            "apiVersion: gitdisc/v1\n"                // 1
            "kind: PayloadSet\n"                      // 2
            "metadata: {name: db}\n"                  // 3
            "spec:\n"                                 // 4
            "  selector: {names: [\"db-*\"]}\n"       // 5
            "  payloads:\n"                           // 6
            "    - name: pg\n"                        // 7
            "      version: \"1\"\n"                  // 8
            "      path: payloads/missing\n"          // 9  folder missing
            "      run: [./install.sh]\n"             // 10
            "      after: [tuning]\n"                 // 11 unknown name
            "      reboot: sometimes\n");             // 12 bad enum
  dir.Write("specs/c-junk.yml", "key: [unclosed\n");  // syntax error
  dir.Write("specs/d-dup.yaml",
            "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: db}\nspec:\n"
            "  selector: {names: [\"*\"]}\n"
            "  payloads: [{name: x, version: \"1\", path: payloads/x, run: [./install.sh]}]\n");
  dir.Write("specs/payloads/x/install.sh", "#!/bin/sh\n", 0755);
}

TEST(CmdValidate, BrokenSpecsGiveOneLocatedDiagnosticPerProblem) {
  specs::TestFolder dir;
  WriteBrokenFleet(dir);
  Outcome r = Validate({"--repo", dir.path(), "--path", "specs"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "specs/a-web.yaml:4:9: error: PayloadSet name 'Web' is not a valid name: use "
            "lower-case letters, digits and '-', starting and ending with a letter or digit\n"
            "specs/a-web.yaml:7:5: error: unknown key 'matchLabel' in selector (did you mean "
            "'matchLabels'?)\n"
            "specs/a-web.yaml:9:7: error: payload 'nginx' is missing required key 'version'\n"
            "specs/a-web.yaml:12:16: error: timeout '5 minutes' is not a duration: unexpected "
            "' ' after 5 (write numbers with units ms, s, m or h, e.g. 90s, 5m, 1h30m)\n"
            "specs/a-web.yaml:13:26: error: maxParallel must be a whole number of at least 1 or a "
            "percentage from 1% to 100%, not '150%'\n"
            "specs/b-db.yaml:11:15: error: after: no payload 'tuning' in this PayloadSet\n"
            "specs/b-db.yaml:12:15: error: reboot 'sometimes' is not one of never, ifRequested, "
            "always\n"
            "specs/c-junk.yml:2:1: error: YAML syntax: end of sequence flow not found\n"
            "specs/d-dup.yaml:3:18: error: PayloadSet 'db' is already defined at "
            "specs/b-db.yaml:3:18; set names must be unique\n"
            "9 errors in 4 files\n");
}

TEST(CmdValidate, MissingPayloadFolderIsReportedOnceTheRestIsFixed) {
  specs::TestFolder dir;
  dir.Write("b-db.yaml",
            "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: db}\nspec:\n"
            "  selector: {names: [\"db-*\"]}\n"
            "  payloads:\n"
            "    - {name: pg, version: \"1\", path: payloads/missing, run: [./install.sh]}\n");
  Outcome r = Validate({"--repo", dir.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "b-db.yaml:7:38: error: payload 'pg': folder 'payloads/missing' does not exist "
            "(looked for 'payloads/missing' in folder " +
                dir.path() +
                ")\n"
                "1 error in 1 file\n");
}

TEST(CmdValidate, JsonOutput) {
  specs::TestFolder dir;
  WriteBrokenFleet(dir);
  Outcome r = Validate({"--repo", dir.path(), "--path", "specs", "-o", "json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "");
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["errors"], 9);
  ASSERT_EQ(j["diagnostics"].size(), 9u);
  EXPECT_EQ(j["diagnostics"][0]["file"], "specs/a-web.yaml");
  EXPECT_EQ(j["diagnostics"][0]["line"], 4);
  EXPECT_EQ(j["diagnostics"][0]["column"], 9);
  EXPECT_EQ(j["diagnostics"][0]["severity"], "error");
  EXPECT_EQ(j["specPath"], "specs");

  Outcome ok = Validate({"--repo", GITDISC_SOURCE_DIR, "--path", "examples/fleet", "-o", "json"});
  EXPECT_EQ(ok.code, 0);
  nlohmann::json v = nlohmann::json::parse(ok.out);
  EXPECT_EQ(v["valid"], true);
  ASSERT_EQ(v["sets"].size(), 3u);
  EXPECT_EQ(v["sets"][2]["name"], "web");
  EXPECT_EQ(v["sets"][2]["rollout"]["canary"], 1);
  EXPECT_EQ(v["sets"][0]["rollout"]["maxParallel"], "50%");
  EXPECT_EQ(v["sets"][0]["payloads"][0]["source"]["path"], "payloads/example-ca");
  EXPECT_EQ(v["sets"][0]["payloads"][0]["timeout"], "2m");
}

// The docs/specs.md example: a .tgz with run ./install.sh is wrong without
// unpack (the disc holds only the archive) and accepted with it.
TEST(CmdValidate, RunProgramOfAnArchiveNeedsUnpack) {
  const std::string set =
      "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: a}\nspec:\n"
      "  selector: {names: [\"*\"]}\n  payloads:\n"
      "    - name: agent-plugin\n      version: \"1.4\"\n"
      "      url: {url: \"https://artifacts.example/plugin-1.4.tgz\", sha256: \"" +
      std::string(64, '0') + "\"}\n      run: [\"./install.sh\"]\n";
  specs::TestFolder dir;
  dir.Write("a.yaml", set);
  Outcome r = Validate({"--repo", dir.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "a.yaml:9:12: error: payload 'agent-plugin': run program './install.sh' is not in "
            "the payload: without unpack the payload holds only the artifact, 'plugin-1.4.tgz' "
            "(add unpack: true for an archive)\n"
            "1 error in 1 file\n");
  dir.Write("a.yaml", set + "      unpack: true\n");
  r = Validate({"--repo", dir.path(), "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sets"][0]["payloads"][0]["source"]["url"]["unpack"], true);
}

TEST(CmdValidate, CouldNotRunExitsTwo) {
  specs::TestFolder dir;
  Outcome missing = Validate({"--repo", dir.Abs("nope")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("gitdisc validate: cannot read the repository"), std::string::npos)
      << missing.err;
  Outcome escape = Validate({"--repo", dir.path(), "--path", "../x"});
  EXPECT_EQ(escape.code, 2);
  EXPECT_NE(escape.err.find("--path ../x must be a folder inside the repository"),
            std::string::npos)
      << escape.err;
}

TEST(CmdValidate, MissingSpecPathIsInvalid) {
  specs::TestFolder dir;
  Outcome r = Validate({"--repo", dir.path(), "--path", "fleet"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "fleet: error: spec path 'fleet' does not exist in folder " + dir.path() +
                       "\n1 error in 1 file\n");
}

TEST(CmdValidate, HostileFilesAreLocatedErrorsNotCrashes) {
  specs::TestFolder dir;
  dir.Write("deep.yaml", std::string(100000, '['));
  dir.Write("big.yaml", std::string(100 * 1024 * 1024, '#'));
  dir.Write("utf.yaml", "a: \"\xc3\x28\"\n");
  Outcome r = Validate({"--repo", dir.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "big.yaml:1:1: error: file is 104857600 bytes, over the limit of 1048576 bytes for "
            "spec files\n"
            "deep.yaml:1:33: error: YAML nested more than 64 levels deep\n"
            "utf.yaml:1:5: error: not valid UTF-8 (byte 0xC3); spec files must be UTF-8\n"
            "3 errors in 3 files\n");
}

}  // namespace
}  // namespace gitdisc::cli
