#include "specs/revision_diff.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gitdisc::specs {
namespace {

Payload P(std::string name, std::string version) {
  Payload p;
  p.name = std::move(name);
  p.version = std::move(version);
  p.source = PathSource{"payloads/" + p.name};
  p.run = {"./install.sh"};
  return p;
}

PayloadSet S(std::string name, std::vector<Payload> payloads) {
  PayloadSet s;
  s.name = std::move(name);
  s.selector.match_labels = {{"role", "web"}};
  s.payloads = std::move(payloads);
  return s;
}

// Digests from a table: "<name>@<version>" → content; the identity mixes in
// version and run so tests control both.
DigestFn Table(std::map<std::string, std::string> content) {
  return [content](const Payload& p) -> Result<PayloadDigests> {
    auto it = content.find(p.name);
    std::string c = it == content.end() ? "" : it->second;
    return PayloadDigests{p.name + "|" + p.version + "|" + c + "|" + p.run.at(0), c};
  };
}

TEST(RevisionDiff, IdenticalSpecsHaveNoChanges) {
  std::vector<PayloadSet> sets = {S("web", {P("motd", "1")})};
  auto d = DiffSpecs(sets, Table({}), sets, Table({}));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->empty());
  EXPECT_NE(RenderDiffText(*d).find("no changes"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(RenderDiffJson(*d))["changed"], false);
}

TEST(RevisionDiff, ClassifiesPayloadChanges) {
  Payload timeout = P("slow", "1");
  timeout.timeout = std::chrono::seconds(300);
  std::vector<PayloadSet> a = {
      S("web", {P("motd", "1"), P("ca", "1"), P("gone", "1"), P("slow", "1")})};
  std::vector<PayloadSet> b = {S("web", {P("motd", "2"), P("ca", "1"), timeout, P("new", "1")})};
  auto d = DiffSpecs(a, Table({{"ca", "old"}}), b, Table({{"ca", "new"}}));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->sets.size(), 1u);
  const auto& ps = d->sets[0].payloads;
  std::map<std::string, PayloadChange::Kind> kinds;
  for (const auto& p : ps) kinds[p.name] = p.kind;
  EXPECT_EQ(kinds["gone"], PayloadChange::Kind::kRemoved);
  EXPECT_EQ(kinds["motd"], PayloadChange::Kind::kUpgraded);
  EXPECT_EQ(kinds["ca"], PayloadChange::Kind::kChanged);
  EXPECT_EQ(kinds["slow"], PayloadChange::Kind::kSettings);
  EXPECT_EQ(kinds["new"], PayloadChange::Kind::kAdded);
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_NE(d->warnings[0].find("web/ca: content changed but version is still \"1\""),
            std::string::npos)
      << d->warnings[0];
  std::string text = RenderDiffText(*d);
  EXPECT_NE(text.find("    ^ motd  1 → 2"), std::string::npos) << text;
  EXPECT_NE(text.find("    - gone  1"), std::string::npos) << text;
  EXPECT_NE(text.find("    ~ slow  1  (timeout 10m → 5m; not re-applied)"), std::string::npos)
      << text;
}

TEST(RevisionDiff, SetLevelChanges) {
  PayloadSet old_set = S("web", {P("a", "1"), P("b", "1")});
  PayloadSet new_set = S("web", {P("b", "1"), P("a", "1")});
  new_set.rollout.canary = 2;
  new_set.suspend = true;
  new_set.selector.names = {"web-*"};
  auto d = DiffSpecs({old_set, S("old", {P("x", "1")})}, Table({}),
                     {new_set, S("added", {P("y", "1")})}, Table({}));
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->sets.size(), 3u);
  EXPECT_EQ(d->sets[0].name, "added");
  EXPECT_EQ(d->sets[0].kind, SetChange::Kind::kAdded);
  EXPECT_EQ(d->sets[1].kind, SetChange::Kind::kRemoved);
  const SetChange& web = d->sets[2];
  EXPECT_TRUE(web.order_changed);
  EXPECT_NE(web.old_rollout, web.new_rollout);
  EXPECT_TRUE(web.new_suspend);
  EXPECT_EQ(web.new_selector, "matchLabels{role=web} names{web-*}");
  auto j = nlohmann::json::parse(RenderDiffJson(*d));
  EXPECT_EQ(j["schemaVersion"], 1);
  EXPECT_EQ(j["sets"][2]["rolloutChanged"], true);
  EXPECT_EQ(j["sets"][2]["suspendChanged"], true);
  EXPECT_EQ(j["sets"][2]["selectorChanged"], true);
}

TEST(RevisionDiff, DigestFailureIsAnError) {
  DigestFn failing = [](const Payload&) -> Result<PayloadDigests> {
    return Status::Corrupt("boom");
  };
  auto d = DiffSpecs({}, failing, {S("web", {P("a", "1")})}, failing);
  EXPECT_EQ(d.status().code(), Status::Code::kCorrupt);
}

}  // namespace
}  // namespace gitdisc::specs
