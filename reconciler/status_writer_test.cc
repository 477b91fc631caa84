#include "reconciler/status_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gitdisc::reconciler {
namespace {

using ::testing::HasSubstr;

// The source as RevisionTracker reports it: tip refused for its signature
// (commit b), an older commit with invalid specs, the fleet on commit a.
SourceStatus Refused() {
  SourceStatus s;
  s.repo = "/srv/fleet.git";
  s.branch = "main";
  s.revision = std::string(40, 'c');
  s.last_valid_revision = std::string(40, 'a');
  s.spec_errors = {"web.yaml:3: error: unknown key"};
  s.unverified_revision = std::string(40, 'c');
  s.unverified_commit = std::string(40, 'b');
  s.unverified_reason = "unsigned: the commit carries no signature";
  return s;
}

std::vector<Event> Reasons(const FleetStatus& s, const std::string& reason) {
  std::vector<Event> out;
  for (const Event& e : s.events) {
    if (e.reason == reason) out.push_back(e);
  }
  return out;
}

TEST(StatusWriter, SignatureRefusalsAndSpecErrorsAreEventsOnlyWhenTheyChange) {
  FakeClock clock;
  StatusWriter w(&clock, /*cache=*/nullptr);  // the cache is read only by RefreshCacheBytes
  w.SetSource(Refused());
  w.SetSource(Refused());  // polled again, nothing new
  FleetStatus s = w.Status();
  EXPECT_EQ(s.source, Refused());
  ASSERT_EQ(Reasons(s, "SpecInvalid").size(), 1u);
  auto unverified = Reasons(s, "SignatureUnverified");
  ASSERT_EQ(unverified.size(), 1u);
  EXPECT_EQ(unverified[0].type, "Warning");
  EXPECT_THAT(unverified[0].message, HasSubstr("revision cccccccccccc is not verified"));
  EXPECT_THAT(unverified[0].message, HasSubstr("commit bbbbbbbbbbbb: unsigned"));
  EXPECT_THAT(unverified[0].message, HasSubstr("staying on aaaaaaaaaaaa"));
  EXPECT_EQ(s.events_total, 2u);

  // A newer refused tip is a new event.
  SourceStatus newer = Refused();
  newer.revision = newer.unverified_revision = newer.unverified_commit = std::string(40, 'd');
  w.SetSource(newer);
  s = w.Status();
  EXPECT_EQ(Reasons(s, "SignatureUnverified").size(), 2u);
  EXPECT_EQ(s.events_total, 3u);
}

}  // namespace
}  // namespace gitdisc::reconciler
