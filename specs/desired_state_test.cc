#include "specs/desired_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc::specs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Payload P(const std::string& name, std::vector<std::string> after = {}) {
  Payload p;
  p.name = name;
  p.version = "1";
  p.source = PathSource{"payloads/" + name};
  p.run = {"./install.sh"};
  p.after = std::move(after);
  return p;
}

PayloadSet Set(const std::string& name, Selector sel, std::vector<Payload> payloads) {
  PayloadSet s;
  s.name = name;
  s.selector = std::move(sel);
  s.payloads = std::move(payloads);
  return s;
}

Selector All() { return Selector{{}, {}, {"*"}}; }
Selector Role(const std::string& r) { return Selector{{{"role", r}}, {}, {}}; }

// Digest "d-<payload>" unless overridden for (set, payload).
DigestLookup Digests(DigestMap overrides = {}) {
  return [overrides](const PayloadSet& s, const Payload& p) -> Result<std::string> {
    auto it = overrides.find({s.name, p.name});
    return it != overrides.end() ? it->second : "d-" + p.name;
  };
}

std::vector<std::string> Names(const VmDesiredState& d) {
  std::vector<std::string> out;
  for (const auto& p : d.payloads) out.push_back(p.name);
  return out;
}

TEST(DesiredState, UnionOfSelectingSetsInSetOrder) {
  std::vector<PayloadSet> sets = {Set("baseline", All(), {P("ca"), P("motd")}),
                                  Set("web", Role("web"), {P("nginx"), P("sysctl")}),
                                  Set("db", Role("db"), {P("postgres")})};
  auto d = DesiredStateFor(sets, "web-1", {{"role", "web"}}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->sets, (std::vector<std::string>{"baseline", "web"}));
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"ca", "motd", "nginx", "sysctl"}));
  EXPECT_EQ(d->payloads[2].digest, "d-nginx");
  EXPECT_EQ(d->payloads[2].sets, std::vector<std::string>{"web"});
  EXPECT_EQ(d->payloads[2].payload, P("nginx"));
  EXPECT_FALSE(d->conflicted());
}

TEST(DesiredState, NotSelectedVmWantsNothing) {
  std::vector<PayloadSet> sets = {Set("web", Role("web"), {P("nginx")})};
  auto d = DesiredStateFor(sets, "db-1", {{"role", "db"}}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(d->sets, IsEmpty());
  EXPECT_THAT(d->payloads, IsEmpty());
}

TEST(DesiredState, SuspendedSetsSelectNothing) {
  PayloadSet web = Set("web", Role("web"), {P("nginx")});
  web.suspend = true;
  auto d =
      DesiredStateFor({Set("baseline", All(), {P("ca")}), web}, "w", {{"role", "web"}}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->sets, std::vector<std::string>{"baseline"});
  EXPECT_EQ(Names(*d), std::vector<std::string>{"ca"});
}

TEST(DesiredState, SamePayloadWithSameDigestIsSharedAcrossSets) {
  std::vector<PayloadSet> sets = {Set("a", All(), {P("ca"), P("x")}),
                                  Set("b", All(), {P("y"), P("ca")})};
  auto d = DesiredStateFor(sets, "vm", {}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"ca", "x", "y"}));
  EXPECT_EQ(d->payloads[0].sets, (std::vector<std::string>{"a", "b"}));
}

TEST(DesiredState, DifferentDigestsAreAConflictNamingTheSets) {
  std::vector<PayloadSet> sets = {Set("baseline", All(), {P("motd")}),
                                  Set("web", Role("web"), {P("motd")})};
  auto d = DesiredStateFor(sets, "w", {{"role", "web"}},
                           Digests({{{"baseline", "motd"}, "1111111111111111aaaa"},
                                    {{"web", "motd"}, "2222222222222222bbbb"}}));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->conflicted());
  EXPECT_THAT(d->payloads, IsEmpty());
  ASSERT_EQ(d->conflicts.size(), 1u);
  EXPECT_EQ(d->conflicts[0].payload, "motd");
  EXPECT_EQ(d->conflicts[0].sets, (std::vector<std::string>{"baseline", "web"}));
  EXPECT_EQ(d->conflicts[0].message,
            "payload 'motd' differs between PayloadSets 'baseline' and 'web' ('baseline' has "
            "digest 111111111111, 'web' has digest 222222222222); nothing is applied to this VM "
            "until they agree");
  // A VM that only one of the sets selects is fine.
  auto other = DesiredStateFor(sets, "d", {{"role", "db"}}, Digests());
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->conflicted());
}

TEST(DesiredState, AfterOrdersTopologicallyAndStably) {
  std::vector<PayloadSet> sets = {
      Set("a", All(), {P("app", {"db", "config"}), P("config"), P("db", {"config"}), P("docs")})};
  auto d = DesiredStateFor(sets, "vm", {}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"config", "db", "app", "docs"}));
}

TEST(DesiredState, AfterEdgesFromEverySetApply) {
  // Set b also names `ca` (same digest) and orders `web` after it.
  std::vector<PayloadSet> sets = {Set("a", All(), {P("web"), P("ca")}),
                                  Set("b", All(), {P("ca"), P("web", {"ca"})})};
  auto d = DesiredStateFor(sets, "vm", {}, Digests());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Names(*d), (std::vector<std::string>{"ca", "web"}));
}

TEST(DesiredState, CycleAcrossSetsIsAConflict) {
  std::vector<PayloadSet> sets = {Set("a", All(), {P("x", {"y"}), P("y")}),
                                  Set("b", All(), {P("y", {"x"}), P("x")})};
  auto d = DesiredStateFor(sets, "vm", {}, Digests());
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->conflicts.size(), 1u);
  EXPECT_EQ(d->conflicts[0].sets, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d->conflicts[0].message,
            "payloads 'x' and 'y' wait for each other through 'after' across PayloadSets 'a' and "
            "'b'; nothing is applied to this VM until the cycle is broken");
  EXPECT_THAT(d->payloads, IsEmpty());
}

TEST(DesiredState, DigestMapAndMissingDigest) {
  std::vector<PayloadSet> sets = {Set("a", All(), {P("x")})};
  DigestMap digests = {{{"a", "x"}, "abc"}};
  auto d = DesiredStateFor(sets, "vm", {}, digests);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->payloads[0].digest, "abc");
  auto missing = DesiredStateFor(sets, "vm", {}, DigestMap{});
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST(DesiredState, LookupFailurePropagates) {
  std::vector<PayloadSet> sets = {Set("a", All(), {P("x")})};
  auto d =
      DesiredStateFor(sets, "vm", {}, [](const PayloadSet&, const Payload&) -> Result<std::string> {
        return Status::Io("tree unreadable");
      });
  EXPECT_EQ(d.status().message(), "tree unreadable");
}

}  // namespace
}  // namespace gitdisc::specs
