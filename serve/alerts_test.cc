#include "serve/alerts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve/webhooks.h"

namespace gitdisc::serve {
namespace {

using reconciler::Event;
using reconciler::FleetStatus;
using ::testing::HasSubstr;

FleetStatus WithEvents(std::vector<Event> events, uint64_t total) {
  FleetStatus s;
  s.source.last_valid_revision = "1111111111111111111111111111111111111111";
  s.events = std::move(events);
  s.events_total = total;
  return s;
}

Event E(const char* reason, const char* object = "vm/web-1") {
  return Event{100, "Warning", object, reason, std::string(reason) + " happened"};
}

TEST(Alerts, EachEventIsReportedOnceAsItArrives) {
  AlertTracker t;
  auto first = t.Update(WithEvents({E("ApplyFailed")}, 1));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].event, "ApplyFailed");
  EXPECT_EQ(first[0].object, "vm/web-1");
  EXPECT_EQ(first[0].revision, "1111111111111111111111111111111111111111");
  EXPECT_TRUE(t.Update(WithEvents({E("ApplyFailed")}, 1)).empty());
  auto next = t.Update(WithEvents({E("ApplyFailed"), E("Halted", "set/web")}, 2));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].event, "Halted");
}

TEST(Alerts, EventsThatFellOutOfTheWindowAreCountedAsMissed) {
  AlertTracker t;
  auto got = t.Update(WithEvents({E("StepFailed"), E("ApplyFailed")}, 5));
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(t.missed(), 3u);
}

TEST(Alerts, ConvergedIsAddedOncePerRevision) {
  AlertTracker t;
  FleetStatus s = WithEvents({}, 0);
  reconciler::VmStatus v;
  v.condition = reconciler::VmCondition::kReady;
  s.vms = {v};
  auto got = t.Update(s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, "Converged");
  EXPECT_EQ(got[0].message, "1 VM ready at 111111111111");
  EXPECT_TRUE(t.Update(s).empty());
  s.source.last_valid_revision = std::string(40, '2');
  EXPECT_EQ(t.Update(s).size(), 1u);
}

TEST(Alerts, TheRequestIsSignedLikeTheGenericReceiverAndSlackReadable) {
  ServeConfig::AlertTarget target{"https://hooks.slack.example/services/T0/B0/SECRETPATH",
                                  Secret("alert-secret", "/etc/gitdisc/alert.secret"),
                                  {"ApplyFailed"}};
  Alert a{"ApplyFailed", "Warning", "vm/web-1", "openssl exited with status 1", 100,
          "1111111111111111111111111111111111111111"};
  OutgoingRequest r = AlertRequest(target, a, "https://git.example/fleet.git", "d-1");
  std::string signature;
  for (const auto& [k, v] : r.headers) {
    if (k == "X-Signature") signature = v;
  }
  EXPECT_TRUE(VerifySignatureHeader(signature, "alert-secret", r.body));
  EXPECT_FALSE(VerifySignatureHeader(signature, "other", r.body));
  auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["event"], "ApplyFailed");
  EXPECT_EQ(body["repo"], "https://git.example/fleet.git");
  EXPECT_THAT(body["text"].get<std::string>(),
              HasSubstr("gitdisc ApplyFailed vm/web-1: openssl exited with status 1"));
  EXPECT_EQ(r.url, target.url);
  // Logs see only where it goes: the path of a Slack URL is its secret.
  EXPECT_EQ(r.what.find("SECRETPATH"), std::string::npos);
  EXPECT_THAT(r.what, HasSubstr("https://hooks.slack.example"));
}

TEST(Alerts, KnownNamesIncludeTheIssueExamples) {
  for (const char* n : {"ApplyFailed", "Halted", "Drifted", "SignatureUnverified", "Converged"}) {
    EXPECT_TRUE(IsAlertEvent(n)) << n;
  }
  // What a hostile or unmanageable guest makes the controller report.
  for (const char* n : {"AgentMisbehaving", "AgentCutOff", "NotManageable"}) {
    EXPECT_TRUE(IsAlertEvent(n)) << n;
  }
  EXPECT_FALSE(IsAlertEvent("applyfailed"));
  EXPECT_THAT(AlertEventList(), HasSubstr("ApplyFailed, ApplySucceeded"));
}

}  // namespace
}  // namespace gitdisc::serve
