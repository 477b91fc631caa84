#include "serve/status_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reconciler/status_table.h"
#include "tests/support/fake_controller.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusPage, ShowsRevisionRolloutMatrixAndEvents) {
  auto s = testing::SampleFleetStatus();
  std::string html = RenderStatusPage(s);
  EXPECT_THAT(html, HasSubstr("<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_THAT(html, HasSubstr("<code id=\"revision\">4f2a9c1e7b3d</code>"));
  EXPECT_THAT(html, HasSubstr("id=\"rollout\""));
  EXPECT_THAT(html, HasSubstr("1/3"));
  EXPECT_THAT(html, HasSubstr("Halted"));
  // Matrix: web-3's openssl failed, web-2's is applying, db-1 has no openssl column value.
  EXPECT_THAT(html, HasSubstr("data-payload=\"openssl\" data-state=\"failed\""));
  EXPECT_THAT(html, HasSubstr("data-payload=\"openssl\" data-state=\"applying\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell none\" data-payload=\"openssl\">"));
  EXPECT_THAT(html, HasSubstr("ApplyFailed"));
  EXPECT_THAT(html, HasSubstr("sets &lt;b&gt;web-baseline&lt;/b&gt; &amp; edge"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
}

TEST(StatusPage, SpecInvalidIsShownWithItsDiagnostics) {
  auto s = testing::SampleFleetStatus();
  s.source.revision = "ffffffffffffffffffffffffffffffffffffffff";
  s.source.spec_errors = {"fleet.yaml:3:5: error: unknown key '<payload>'"};
  std::string html = RenderStatusPage(s);
  EXPECT_THAT(html, HasSubstr("SpecInvalid at ffffffffffff"));
  EXPECT_THAT(html, HasSubstr("unknown key &#39;&lt;payload&gt;&#39;"));
  EXPECT_THAT(html, HasSubstr("acting on <code id=\"last-valid\">4f2a9c1e7b3d</code>"));
}

// A guest cut off for breaking a bound (docs/security.md "A hostile guest")
// shows as AgentMisbehaving, in the bad tone, with the bound as its reason,
// on the page, in the table and in the per-condition counts.
TEST(StatusPage, AMisbehavingGuestIsShownWithTheBoundItBroke) {
  auto s = testing::SampleFleetStatus();
  reconciler::VmStatus& v = s.vms.front();
  v.condition = reconciler::VmCondition::kAgentMisbehaving;
  v.reason = "JunkLines";
  v.message = "the agent was cut off: more than 64 blank or undecodable lines in one call";
  std::string html = RenderStatusPage(s);
  EXPECT_THAT(html, HasSubstr("<span class=\"badge bad\" title=\"JunkLines\">AgentMisbehaving</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"badge bad\">AgentMisbehaving 1</span>"));
  EXPECT_EQ(s.CountByCondition()["AgentMisbehaving"], 1);
  std::string t = reconciler::RenderFleetTable(s, true);
  EXPECT_THAT(t, HasSubstr("\033[31mAgentMisbehaving\033[0m"));
  EXPECT_THAT(reconciler::RenderFleetTable(s, false), HasSubstr("JunkLines"));
}

TEST(StatusTable, PrintsVmsAndSetsAligned) {
  std::string t = reconciler::RenderFleetTable(testing::SampleFleetStatus(), false);
  EXPECT_THAT(t, HasSubstr("revision  4f2a9c1e7b3d\n"));
  EXPECT_THAT(t, HasSubstr("VM      HOST                   CONDITION    PAYLOADS  REASON"));
  EXPECT_THAT(t, HasSubstr("web-3   qemu:///system         Failed       1/2       ApplyFailed"));
  EXPECT_THAT(t, HasSubstr("edge-1  qemu+ssh://hv2/system  Conflict     -"));
  EXPECT_THAT(t, HasSubstr("web-baseline  1/3    1       1          Halted"));
  EXPECT_THAT(t, Not(HasSubstr("\033[")));
  std::string colored = reconciler::RenderFleetTable(testing::SampleFleetStatus(), true);
  EXPECT_THAT(colored, HasSubstr("\033[31mFailed\033[0m"));
  EXPECT_THAT(colored, HasSubstr("\033[32mReady\033[0m"));
}

TEST(StatusTable, SpecErrorsAndEmptyFleet) {
  reconciler::FleetStatus s;
  s.source.revision = "abc";
  s.source.spec_errors = {"a.yaml:1:1: error: x"};
  std::string t = reconciler::RenderFleetTable(s, false);
  EXPECT_THAT(t, HasSubstr("(acting on none)"));
  EXPECT_THAT(t, HasSubstr("SpecInvalid at abc:\n  a.yaml:1:1: error: x\n"));
  EXPECT_THAT(t, HasSubstr("no VMs found"));
}

TEST(StatusPage, SignatureUnverifiedIsShownWithTheCommitAndWhy) {
  auto s = testing::SampleFleetStatus();
  s.source.revision = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
  s.source.unverified_revision = s.source.revision;
  s.source.unverified_commit = "dddddddddddddddddddddddddddddddddddddddd";
  s.source.unverified_reason = "unknown key: SHA256:abc is not in <signers>";
  std::string html = RenderStatusPage(s);
  EXPECT_THAT(html, HasSubstr("SignatureUnverified at eeeeeeeeeeee"));
  EXPECT_THAT(html, HasSubstr("commit dddddddddddd: unknown key: SHA256:abc is not in &lt;signers&gt;"));
  EXPECT_THAT(html, HasSubstr("not applied; acting on 4f2a9c1e7b3d"));
  std::string t = reconciler::RenderFleetTable(s, false);
  EXPECT_THAT(t, HasSubstr("SignatureUnverified at eeeeeeeeeeee: commit dddddddddddd: unknown key"));
}

}  // namespace
}  // namespace gitdisc::serve
