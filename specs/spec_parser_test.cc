#include "specs/spec_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gitdisc::specs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Lines 1-8 of every document below; payload entries start on line 9.
constexpr char kHead[] =
    "apiVersion: gitdisc/v1\n"
    "kind: PayloadSet\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  selector:\n"
    "    names: [\"*\"]\n"
    "  payloads:\n";

// One valid payload on lines 9-12, then `extra` (keys of the same payload,
// indented 6, starting on line 13).
std::string WithPayload(const std::string& extra) {
  return std::string(kHead) +
         "    - name: p\n"
         "      version: \"1\"\n"
         "      path: payloads/p\n"
         "      run: [./install.sh]\n" +
         extra;
}

// A whole document whose payload part is `payloads` (lines 9 on).
std::string WithPayloads(const std::string& payloads) { return std::string(kHead) + payloads; }

std::vector<std::string> Problems(const std::string& yaml) {
  ParsedFile f = ParseSpecFile("f.yaml", yaml);
  std::vector<std::string> out;
  for (const Diagnostic& d : f.diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(SpecParser, UnpackIsReadBesideFileAndUrlSources) {
  const std::string sha(64, 'a');
  ParsedFile f = ParseSpecFile(
      "f.yaml", WithPayloads("    - name: a\n      version: \"1\"\n      run: [./install.sh]\n"
                             "      url: {url: \"https://a.example/a.tgz\", sha256: \"" + sha +
                             "\"}\n      unpack: true\n"
                             "    - name: b\n      version: \"1\"\n      run: [./install.sh]\n"
                             "      unpack: True\n"
                             "      file: {path: /srv/b.zip, sha256: \"" + sha + "\"}\n"
                             "    - name: c\n      version: \"1\"\n      run: [/bin/true]\n"
                             "      url: {url: \"https://a.example/c.tgz\", sha256: \"" + sha +
                             "\"}\n      unpack: false\n"));
  EXPECT_THAT(f.diagnostics, IsEmpty());
  ASSERT_EQ(f.sets.size(), 1u);
  const auto& p = f.sets[0].payloads;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].source, PayloadSource(UrlSource{"https://a.example/a.tgz", sha, true}));
  EXPECT_EQ(p[1].source, PayloadSource(FileSource{"/srv/b.zip", sha, true}));
  EXPECT_EQ(p[2].source, PayloadSource(UrlSource{"https://a.example/c.tgz", sha, false}));
  EXPECT_TRUE(IsUnpacked(p[0].source));
  EXPECT_FALSE(IsUnpacked(p[2].source));
}

TEST(SpecParser, ParsesAFullPayloadSetWithEveryField) {
  ParsedFile f = ParseSpecFile("fleet/web.yaml", R"(# the web tier
apiVersion: gitdisc/v1
kind: PayloadSet
metadata:
  name: web-baseline
spec:
  selector:
    matchLabels: {role: web, env: prod}
    matchExpressions:
      - {key: tier, operator: In, values: [frontend, edge]}
      - {key: example.com/legacy, operator: DoesNotExist}
    names: ["web-*"]
  payloads:
    - name: motd
      version: "2"
      path: payloads/motd
      run: ["./install.sh"]
      timeout: 5m
      env: {GREETING: hello, PORT: 8080}
      after: [openssl]
      reboot: ifRequested
    - name: openssl
      version: 3.0.22-1
      file: {path: /srv/artifacts/openssl_3.0.22-1.deb, sha256: "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}
      run: ["/bin/sh", "-c", "dpkg -i *.deb"]
    - name: agent-plugin
      version: "1.4"
      url: {url: "https://artifacts.example/plugin-1.4.tgz", sha256: "0000000000000000000000000000000000000000000000000000000000000000"}
      run: ["./install.sh"]
      reboot: always
  rollout:
    maxParallel: 50%
    maxFailures: 2
    canary: 1
  suspend: true
)");
  EXPECT_THAT(f.diagnostics, IsEmpty());
  ASSERT_EQ(f.sets.size(), 1u);
  const PayloadSet& s = f.sets[0];
  EXPECT_EQ(s.name, "web-baseline");
  EXPECT_EQ(s.pos, (SourcePos{"fleet/web.yaml", 2, 1}));
  EXPECT_EQ(s.name_pos, (SourcePos{"fleet/web.yaml", 5, 9}));
  EXPECT_EQ(s.selector.match_labels,
            (std::map<std::string, std::string>{{"env", "prod"}, {"role", "web"}}));
  ASSERT_EQ(s.selector.match_expressions.size(), 2u);
  EXPECT_EQ(s.selector.match_expressions[0],
            (SelectorRequirement{"tier", SelectorOp::kIn, {"frontend", "edge"}}));
  EXPECT_EQ(s.selector.match_expressions[1],
            (SelectorRequirement{"example.com/legacy", SelectorOp::kDoesNotExist, {}}));
  EXPECT_EQ(s.selector.names, std::vector<std::string>{"web-*"});
  ASSERT_EQ(s.payloads.size(), 3u);
  const Payload& motd = s.payloads[0];
  EXPECT_EQ(motd.name, "motd");
  EXPECT_EQ(motd.version, "2");
  EXPECT_EQ(std::get<PathSource>(motd.source).path, "payloads/motd");
  EXPECT_EQ(motd.source_pos, (SourcePos{"fleet/web.yaml", 16, 13}));
  EXPECT_EQ(motd.pos, (SourcePos{"fleet/web.yaml", 14, 7}));
  EXPECT_EQ(motd.run, std::vector<std::string>{"./install.sh"});
  EXPECT_EQ(motd.timeout, std::chrono::seconds(300));
  EXPECT_EQ(motd.env,
            (std::map<std::string, std::string>{{"GREETING", "hello"}, {"PORT", "8080"}}));
  EXPECT_EQ(motd.after, std::vector<std::string>{"openssl"});
  EXPECT_EQ(motd.reboot, RebootPolicy::kIfRequested);
  const Payload& openssl = s.payloads[1];
  EXPECT_EQ(openssl.version, "3.0.22-1");
  EXPECT_EQ(std::get<FileSource>(openssl.source),
            (FileSource{"/srv/artifacts/openssl_3.0.22-1.deb",
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"}));
  EXPECT_EQ(openssl.timeout, std::chrono::seconds(600));
  EXPECT_EQ(openssl.reboot, RebootPolicy::kNever);
  EXPECT_EQ(std::get<UrlSource>(s.payloads[2].source).url,
            "https://artifacts.example/plugin-1.4.tgz");
  EXPECT_EQ(s.payloads[2].reboot, RebootPolicy::kAlways);
  EXPECT_EQ(s.rollout, (Rollout{CountOrPercent{50, true}, 2, 1}));
  EXPECT_TRUE(s.suspend);
}

TEST(SpecParser, AppliesDefaults) {
  ParsedFile f = ParseSpecFile("f.yaml", WithPayload(""));
  ASSERT_THAT(f.diagnostics, IsEmpty());
  ASSERT_EQ(f.sets.size(), 1u);
  const PayloadSet& s = f.sets[0];
  EXPECT_EQ(s.rollout.max_parallel, (CountOrPercent{25, true}));
  EXPECT_EQ(s.rollout.max_failures, 0);
  EXPECT_EQ(s.rollout.canary, 0);
  EXPECT_FALSE(s.suspend);
  EXPECT_EQ(s.payloads[0].timeout, std::chrono::minutes(10));
  EXPECT_EQ(s.payloads[0].reboot, RebootPolicy::kNever);
  EXPECT_THAT(s.payloads[0].env, IsEmpty());
  EXPECT_THAT(s.payloads[0].after, IsEmpty());
}

TEST(SpecParser, ReadsSeveralDocumentsAndIgnoresOtherYaml) {
  std::string yaml = WithPayload("") +
                     "---\n"                        // 13
                     "apiVersion: apps/v1\n"        // 14
                     "kind: Deployment\n"           // 15
                     "---\n"                        // 16
                     "- just a list\n"              // 17
                     "---\n"                        // 18
                     "title: no apiVersion here\n"  // 19
                     "---\n" +                      // 20
                     std::string(kHead).replace(std::string(kHead).find("web"), 3, "db") +
                     "    - {name: q, version: \"1\", path: q, run: [x]}\n";
  ParsedFile f = ParseSpecFile("f.yaml", yaml);
  EXPECT_THAT(f.diagnostics, IsEmpty());
  ASSERT_EQ(f.sets.size(), 2u);
  EXPECT_EQ(f.sets[0].name, "web");
  EXPECT_EQ(f.sets[1].name, "db");
  EXPECT_EQ(f.sets[1].pos.line, 21);
  EXPECT_THAT(f.ignored, ElementsAre(IgnoredDocument{"f.yaml", 2, 14, 1,
                                                     "apiVersion 'apps/v1' is not gitdisc/v1"},
                                     IgnoredDocument{"f.yaml", 3, 17, 1, "not a mapping"},
                                     IgnoredDocument{"f.yaml", 4, 19, 1, "no apiVersion"}));
}

TEST(SpecParser, WarnsAboutAMisspelledApiVersion) {
  EXPECT_THAT(
      Problems("apiVersion: gitdisk/v1\nkind: PayloadSet\n"),
      ElementsAre("f.yaml:1:13: warning: document looks like a gitdisc spec but has "
                  "apiVersion 'gitdisk/v1', so it is ignored (did you mean 'gitdisc/v1'?)"));
}

TEST(SpecParser, RejectsAnotherGitdiscVersion) {
  EXPECT_THAT(Problems("apiVersion: gitdisc/v2\nkind: PayloadSet\n"),
              ElementsAre("f.yaml:1:13: error: apiVersion 'gitdisc/v2' is not supported: this "
                          "gitdisc reads gitdisc/v1"));
}

TEST(SpecParser, KeepsValidSetsNextToInvalidOnes) {
  std::string bad = std::string(kHead).replace(std::string(kHead).find("web"), 3, "Bad") +
                    "    - {name: q, version: \"1\", path: q, run: [x]}\n";
  ParsedFile f = ParseSpecFile("f.yaml", WithPayload("") + "---\n" + bad);
  EXPECT_EQ(f.error_count(), 1);
  ASSERT_EQ(f.sets.size(), 1u);
  EXPECT_EQ(f.sets[0].name, "web");
}

struct BadCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> want;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class SpecParserRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(SpecParserRejects, WithLocatedDiagnostics) {
  const BadCase& c = GetParam();
  ParsedFile f = ParseSpecFile("f.yaml", c.yaml);
  std::vector<std::string> got;
  for (const Diagnostic& d : f.diagnostics) got.push_back(d.ToString());
  EXPECT_EQ(got, c.want);
  EXPECT_THAT(f.sets, IsEmpty()) << "an invalid document must not yield a set";
}

const std::string kBadName = std::string(kHead).replace(std::string(kHead).find("web"), 3, "Web_1");

INSTANTIATE_TEST_SUITE_P(
    Rules, SpecParserRejects,
    ::testing::Values(
        // ---- document and metadata
        BadCase{"UnknownTopLevelKey",
                WithPayload("") + "status: {}\n",
                {"f.yaml:13:1: error: unknown key 'status' in a PayloadSet"}},
        BadCase{"MisspelledTopLevelKey",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetdata: {name: x}\nspec: {}\n",
                {"f.yaml:1:1: error: a PayloadSet is missing required key 'metadata'",
                 "f.yaml:3:1: error: unknown key 'metdata' in a PayloadSet (did you mean "
                 "'metadata'?)",
                 "f.yaml:4:7: error: spec is missing required key 'selector'",
                 "f.yaml:4:7: error: spec is missing required key 'payloads'"}},
        BadCase{"WrongKind",
                "apiVersion: gitdisc/v1\nkind: Payloadset\nmetadata: {name: x}\n"
                "spec: {selector: {names: [a]}, payloads: [{name: p, version: 1, "
                "path: p, run: [x]}]}\n",
                {"f.yaml:2:7: error: kind 'Payloadset' is not known; gitdisc/v1 has only "
                 "PayloadSet (did you mean 'PayloadSet'?)"}},
        BadCase{"MissingKind",
                WithPayload("").replace(23, 17, ""),
                {"f.yaml:1:1: error: a PayloadSet is missing required key 'kind'"}},
        BadCase{"NameNotDnsLabel",
                kBadName + "    - {name: q, version: \"1\", path: q, run: [x]}\n",
                {"f.yaml:4:9: error: PayloadSet name 'Web_1' is not a valid name: use lower-case "
                 "letters, digits and '-', starting and ending with a letter or digit"}},
        BadCase{
            "NameTooLong",
            std::string(kHead).replace(std::string(kHead).find("web"), 3, std::string(64, 'a')) +
                "    - {name: q, version: \"1\", path: q, run: [x]}\n",
            {"f.yaml:4:9: error: PayloadSet name "
             "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' is not a valid "
             "name: it is longer than 63 characters"}},
        BadCase{"MetadataNotAMapping",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: web\nspec: {selector: {names: "
                "[a]}, payloads: [{name: p, version: 1, path: p, run: [x]}]}\n",
                {"f.yaml:3:11: error: metadata must be a mapping, not a scalar"}},
        BadCase{"DuplicateKey",
                WithPayload("      version: \"2\"\n"),
                {"f.yaml:13:7: error: key 'version' is given twice in a payload (first at 10:7)"}},
        BadCase{"AliasInSpec",
                std::string(kHead) + "    - &p {name: p, version: \"1\", path: p, run: [x]}\n"
                                     "    - *p\n",
                {"f.yaml:10:7: error: YAML aliases are not supported in gitdisc specs; write the "
                 "value out"}},
        // ---- selector
        BadCase{"EmptySelector",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector: {}\n  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:5:13: error: selector needs at least one of matchLabels, "
                 "matchExpressions or names (names: [\"*\"] selects every VM)"}},
        BadCase{"SelectorWithOnlyEmptyCriteria",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector: {names: [], matchLabels: {}}\n"
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:5:13: error: selector is empty: give at least one label, expression or "
                 "name (names: [\"*\"] selects every VM)"}},
        BadCase{"MisspelledSelectorKey",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector: {names: [a], matchlabels: {a: b}}\n"
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:5:26: error: unknown key 'matchlabels' in selector (did you mean "
                 "'matchLabels'?)"}},
        BadCase{"OnlyCriterionMisspelledIsOneProblem",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector:\n    Names: [\"*\"]\n"
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:6:5: error: unknown key 'Names' in selector (did you mean 'names'?)"}},
        BadCase{"BadLabelKeyAndValue",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector:\n    matchLabels: {\"-role\": web, tier: \"a b\", \"Ex.com/x\": y}\n"
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:6:19: error: label key '-role' is not valid: the name part must be "
                 "letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
                 "f.yaml:6:39: error: label value 'a b' is not valid: it must be letters, digits, "
                 "'-', '_' or '.', starting and ending with a letter or digit",
                 "f.yaml:6:46: error: label key 'Ex.com/x' is not valid: the prefix before '/' "
                 "must be a lower-case DNS subdomain of at most 253 characters"}},
        BadCase{"ExpressionProblems",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector:\n    matchExpressions:\n"
                "      - {key: a, operator: in, values: [x]}\n"      // 7
                "      - {key: b, operator: In}\n"                   // 8
                "      - {key: c, operator: NotIn, values: []}\n"    // 9
                "      - {key: d, operator: Exists, values: [x]}\n"  // 10
                "      - {operator: DoesNotExist}\n"                 // 11
                "      - {key: e, op: In, values: [x]}\n"            // 12
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:7:28: error: operator 'in' is not one of In, NotIn, Exists, DoesNotExist "
                 "(did you mean 'In'?)",
                 "f.yaml:8:9: error: operator In needs a non-empty 'values' list",
                 "f.yaml:9:43: error: operator NotIn needs at least one value",
                 "f.yaml:10:44: error: operator Exists takes no values",
                 "f.yaml:11:9: error: a matchExpressions entry is missing required key 'key'",
                 "f.yaml:12:9: error: a matchExpressions entry is missing required key 'operator'",
                 "f.yaml:12:18: error: unknown key 'op' in a matchExpressions entry"}},
        BadCase{"NamesNotAList",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector: {names: \"*\"}\n"
                "  payloads: [{name: p, version: 1, path: p, run: [x]}]\n",
                {"f.yaml:5:21: error: names must be a list, not a scalar"}},
        // ---- payload list
        BadCase{"NoPayloads",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: x}\nspec:\n"
                "  selector: {names: [a]}\n  payloads: []\n",
                {"f.yaml:6:13: error: payloads must list at least one payload"}},
        BadCase{"PayloadsNotAList",
                std::string(kHead) + "    name: p\n",
                {"f.yaml:9:5: error: payloads must be a list, not a mapping"}},
        BadCase{"DuplicatePayloadName",
                WithPayloads("    - {name: p, version: \"1\", path: p, run: [x]}\n"
                             "    - {name: p, version: \"2\", path: q, run: [x]}\n"),
                {"f.yaml:10:7: error: payload 'p' is defined twice in this PayloadSet (first at "
                 "9:7)"}},
        BadCase{"PayloadNameNotDnsLabel",
                WithPayloads("    - {name: My.Payload, version: \"1\", path: p, run: [x]}\n"),
                {"f.yaml:9:14: error: payload name 'My.Payload' is not a valid name: use "
                 "lower-case letters, digits and '-', starting and ending with a letter or digit"}},
        BadCase{"MissingNameVersionRun",
                WithPayloads("    - {path: p}\n"),
                {"f.yaml:9:7: error: a payload is missing required key 'name'",
                 "f.yaml:9:7: error: a payload is missing required key 'version'",
                 "f.yaml:9:7: error: a payload is missing required key 'run'"}},
        BadCase{"MisspelledPayloadKey",
                WithPayloads("    - {name: p, verison: \"1\", path: p, run: [x]}\n"),
                {"f.yaml:9:7: error: payload 'p' is missing required key 'version'",
                 "f.yaml:9:17: error: unknown key 'verison' in a payload (did you mean "
                 "'version'?)"}},
        BadCase{"EmptyVersion",
                WithPayloads("    - {name: p, version: \"\", path: p, run: [x]}\n"),
                {"f.yaml:9:26: error: version must not be empty"}},
        BadCase{"NullVersion",
                WithPayloads("    - {name: p, version: , path: p, run: [x]}\n"),
                {"f.yaml:9:26: error: version has no value"}},
        BadCase{"VersionIsAList",
                WithPayloads("    - {name: p, version: [1], path: p, run: [x]}\n"),
                {"f.yaml:9:26: error: version must be a string, not a list"}},
        // ---- sources
        BadCase{"NoSource",
                WithPayloads("    - {name: p, version: \"1\", run: [x]}\n"),
                {"f.yaml:9:7: error: payload 'p' needs exactly one of path, file or url"}},
        BadCase{"TwoSources",
                WithPayload("      url: {url: \"https://a.example/x\", sha256: \"" +
                            std::string(64, 'a') + "\"}\n"),
                {"f.yaml:13:12: error: payload 'p' has both path and url; give exactly one of "
                 "path, file or url"}},
        BadCase{"AbsolutePath",
                WithPayloads("    - {name: p, version: \"1\", path: /etc, run: [x]}\n"),
                {"f.yaml:9:37: error: path '/etc' must be relative to the spec folder, not "
                 "absolute (use file: for host files)"}},
        BadCase{"PathWithDotDot",
                WithPayloads("    - {name: p, version: \"1\", path: a/../../b, run: [x]}\n"),
                {"f.yaml:9:37: error: path 'a/../../b' may not contain '..'"}},
        BadCase{"PathNotNormalised",
                WithPayloads("    - {name: p, version: \"1\", path: ./a//b/, run: [x]}\n"),
                {"f.yaml:9:37: error: path './a//b/' is not normalised (did you mean 'a/b'?)"}},
        BadCase{"PathIsTheRoot",
                WithPayloads("    - {name: p, version: \"1\", path: ., run: [x]}\n"),
                {"f.yaml:9:37: error: path '.' must name a folder below the spec folder"}},
        BadCase{"FileNotAbsoluteAndBadSha",
                WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                             "      file: {path: a.deb, sha256: xyz}\n"),
                {"f.yaml:12:20: error: file path 'a.deb' must be absolute (a file on the gitdisc "
                 "host)",
                 "f.yaml:12:35: error: sha256 must be 64 hex digits, not 'xyz' (3 characters)"}},
        BadCase{"FileMissingSha",
                WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                             "      file: {path: /a//b.deb}\n"),
                {"f.yaml:12:13: error: file is missing required key 'sha256'",
                 "f.yaml:12:20: error: file path '/a//b.deb' is not normalised (did you mean "
                 "'/a/b.deb'?)"}},
        BadCase{
            "UrlNotHttp",
            WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                         "      url: {url: \"ftp://a.example/x\", sha256: \"" +
                         std::string(63, 'a') + "g\"}\n"),
            {"f.yaml:12:18: error: url 'ftp://a.example/x' must start with http:// or https://",
             "f.yaml:12:47: error: sha256 must be 64 hex digits, not "
             "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' (64 characters)"}},
        BadCase{"UrlWithoutHost",
                WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                             "      url: {url: \"https:///x\", sha256: \"" +
                             std::string(64, '0') + "\"}\n"),
                {"f.yaml:12:18: error: url 'https:///x' has no host"}},
        BadCase{"UrlWithCredentials",
                WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                             "      url: {url: \"https://ghp_t0ken@h.example/x.tgz\", sha256: \"" +
                             std::string(64, '0') + "\"}\n"),
                {"f.yaml:12:18: error: url 'https://h.example/x.tgz' must not carry credentials "
                 "before its host (a URL is shown in logs, status and errors)"}},
        BadCase{"UnpackOnAPathPayload", WithPayload("      unpack: true\n"),
                {"f.yaml:13:15: error: unpack applies to file: and url: artifacts only; a path: "
                 "payload is a folder already"}},
        BadCase{"UnpackNotABool",
                WithPayloads("    - name: p\n      version: \"1\"\n      run: [x]\n"
                             "      url: {url: \"https://a.example/x.tgz\", sha256: \"" +
                             std::string(64, '0') + "\"}\n      unpack: \"yes\"\n"),
                {"f.yaml:13:15: error: unpack must be true or false, not 'yes'"}},
        // ---- run, timeout, env, reboot
        BadCase{"RunEmpty",
                WithPayloads("    - {name: p, version: \"1\", path: p, run: []}\n"),
                {"f.yaml:9:45: error: run must name a program: a list of at least one string"}},
        BadCase{"RunNotAList",
                WithPayloads("    - {name: p, version: \"1\", path: p, run: x.sh}\n"),
                {"f.yaml:9:45: error: run must be a list, not a scalar"}},
        BadCase{"RunEntryNotAString",
                WithPayloads("    - {name: p, version: \"1\", path: p, run: [a, {b: c}, \"\"]}\n"),
                {"f.yaml:9:49: error: run entry 2 must be a string, not a mapping",
                 "f.yaml:9:57: error: run entry 3 must not be empty"}},
        BadCase{"TimeoutWithoutUnit",
                WithPayload("      timeout: 90\n"),
                {"f.yaml:13:16: error: timeout '90' is not a duration: '90' has no unit (write "
                 "numbers with units ms, s, m or h, e.g. 90s, 5m, 1h30m)"}},
        BadCase{"TimeoutZero",
                WithPayload("      timeout: 0s\n"),
                {"f.yaml:13:16: error: timeout '0s' is not a duration: it must be longer than "
                 "zero (write numbers with units ms, s, m or h, e.g. 90s, 5m, 1h30m)"}},
        BadCase{"TimeoutNotWholeSeconds",
                WithPayload("      timeout: 1500ms\n"),
                {"f.yaml:13:16: error: timeout '1500ms' is not a whole number of seconds"}},
        BadCase{"TimeoutTooLong",
                WithPayload("      timeout: 169h\n"),
                {"f.yaml:13:16: error: timeout '169h' is longer than 168h"}},
        BadCase{"EnvProblems",
                WithPayload("      env: {1X: a, GITDISC_OP: b, OK: {x: y}, E: }\n"),
                {"f.yaml:13:13: error: env name '1X' is not valid: use letters, digits and '_', "
                 "not starting with a digit",
                 "f.yaml:13:20: error: env name 'GITDISC_OP' is reserved: the agent sets "
                 "GITDISC_* variables itself",
                 "f.yaml:13:39: error: env 'OK' must be a string, not a mapping",
                 "f.yaml:13:50: error: env 'E' has no value"}},
        BadCase{"RebootNotInEnum",
                WithPayload("      reboot: Always\n"),
                {"f.yaml:13:15: error: reboot 'Always' is not one of never, ifRequested, always "
                 "(did you mean 'always'?)"}},
        // ---- after
        BadCase{"AfterUnknownName",
                WithPayload("      after: [qq, p]\n") +
                    "    - {name: q, version: \"1\", path: q, run: [x]}\n",
                {"f.yaml:13:15: error: after: no payload 'qq' in this PayloadSet (did you mean "
                 "'q'?)",
                 "f.yaml:13:19: error: payload 'p' cannot come after itself"}},
        BadCase{"AfterRepeated",
                WithPayload("      after: [q, q]\n") +
                    "    - {name: q, version: \"1\", path: q, run: [x]}\n",
                {"f.yaml:13:18: error: after: 'q' is listed twice"}},
        BadCase{"AfterCycle",
                WithPayloads("    - {name: a, version: \"1\", path: a, run: [x], after: [c]}\n"
                             "    - {name: b, version: \"1\", path: b, run: [x], after: [a]}\n"
                             "    - {name: c, version: \"1\", path: c, run: [x], after: [b]}\n"),
                {"f.yaml:10:58: error: payloads form a cycle through 'after': a → c → b → a"}},
        // ---- rollout and suspend
        BadCase{
            "RolloutProblems",
            WithPayload("") + "  rollout: {maxParallel: 0, maxFailures: -1, canary: 1.5, max: 1}\n",
            {"f.yaml:13:26: error: maxParallel must be a whole number from 1 to 1000000, not 0",
             "f.yaml:13:42: error: maxFailures must be a whole number from 0 to 1000000, not -1",
             "f.yaml:13:54: error: canary must be a whole number from 0 to 1000000, not '1.5'",
             "f.yaml:13:59: error: unknown key 'max' in rollout"}},
        BadCase{"MaxParallelPercentOutOfRange",
                WithPayload("") + "  rollout: {maxParallel: 101%}\n",
                {"f.yaml:13:26: error: maxParallel must be a whole number of at least 1 or a "
                 "percentage from 1% to 100%, not '101%'"}},
        BadCase{"MaxParallelQuotedNumber",
                WithPayload("") + "  rollout: {maxParallel: \"3\"}\n",
                {"f.yaml:13:26: error: maxParallel must be a whole number of at least 1 or a "
                 "percentage from 1% to 100%, not '3'"}},
        BadCase{"SuspendNotABool",
                WithPayload("") + "  suspend: yes\n",
                {"f.yaml:13:12: error: suspend must be true or false, not 'yes'"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

}  // namespace
}  // namespace gitdisc::specs
