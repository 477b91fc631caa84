#include "serve/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/promtool.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(Metrics, RendersTheDesignNamesWithHelpAndType) {
  MetricsRegistry registry;
  GitdiscMetrics m(&registry);
  m.reconcile_duration.Observe(0.3);
  m.reconcile_duration.Observe(7);
  m.vms.Set({"Ready"}, 3);
  m.vms.Set({"Failed"}, 1);
  m.payload_applies.Inc({"ok"});
  m.payload_applies.Inc({"ok"});
  m.iso_cache_bytes.Set(1 << 20);
  m.webhook_requests.Inc({"github", "accepted"});
  m.SetSourceRevision("0123abcd");
  m.SetSourceRevision("4567ef01");

  std::string text = registry.Render();
  EXPECT_EQ(testing::PromtoolProblems(text), "") << text;
  EXPECT_THAT(text, HasSubstr("# HELP gitdisc_reconcile_duration_seconds "));
  EXPECT_THAT(text, HasSubstr("# TYPE gitdisc_reconcile_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_bucket{le=\"0.25\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_bucket{le=\"0.5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_bucket{le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_sum 7.3\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_reconcile_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE gitdisc_vms gauge\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_vms{condition=\"Failed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_vms{condition=\"Ready\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_payload_applies_total{result=\"ok\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("gitdisc_iso_cache_bytes 1048576\n"));
  EXPECT_THAT(
      text, HasSubstr("gitdisc_webhook_requests_total{provider=\"github\",result=\"accepted\"} 1"));
  EXPECT_THAT(text, HasSubstr("gitdisc_source_revision_info{revision=\"4567ef01\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("0123abcd")));
}

TEST(Metrics, EscapesLabelValues) {
  MetricsRegistry registry;
  Gauge g = registry.AddGauge("x_info", "Odd labels.", {"v"});
  g.Set({"a\"b\\c\nd"}, 1);
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("x_info{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_EQ(testing::PromtoolProblems(text), "") << text;
}

TEST(Metrics, UnlabelledSeriesStartAtZero) {
  MetricsRegistry registry;
  registry.AddCounter("a_total", "A.");
  registry.AddHistogram("h_seconds", "H.", {1, 2});
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("a_total 0\n"));
  EXPECT_THAT(text, HasSubstr("h_seconds_count 0\n"));
  EXPECT_EQ(testing::PromtoolProblems(text), "") << text;
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry registry;
  GitdiscMetrics m(&registry);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        m.webhook_requests.Inc({"generic", "accepted"});
        m.reconcile_duration.Observe(0.001 * i);
        if (i % 100 == 0) (void)registry.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.webhook_requests.Value({"generic", "accepted"}), 8000);
  EXPECT_EQ(m.reconcile_duration.Count(), 8000u);
  EXPECT_EQ(testing::PromtoolProblems(registry.Render()), "");
}

TEST(Promtool, FindsAMistakeSoACleanVerdictMeansSomething) {
  EXPECT_EQ(testing::PromtoolProblems("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"), "");
  EXPECT_NE(testing::PromtoolProblems("# HELP a A.\n# TYPE a counter\na 1\n"), "");
  EXPECT_NE(testing::PromtoolProblems("a{x=\"\\q\"} 1\n"), "");
}

}  // namespace
}  // namespace gitdisc::serve
