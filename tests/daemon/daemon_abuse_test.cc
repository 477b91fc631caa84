// HTTP abuse against the REAL `gitdisc serve` on loopback (issue 13): while
// attackers on 127.0.0.2… hold hundreds of idle connections, trickle heads a
// byte a second, stream endless header lines and bodies without length, and
// flood the webhook with bad signatures, /healthz from 127.0.0.1 answers every
// probe within 2 s, the daemon's memory stays bounded (VmRSS/VmHWM from
// /proc), and afterwards a webhook still triggers a reconcile and SIGTERM
// ends the daemon with 0. No VM: the daemon follows a repository whose set
// selects no VM, on libvirt's test:///default.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tests/support/http_attack.h"
#include "tests/support/serve_process.h"

namespace gitdisc::test_support {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

double Metric(const std::string& metrics, const std::string& series) {
  size_t at = metrics.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::strtod(metrics.c_str() + at + series.size() + 2, nullptr);
}

TEST(DaemonAbuse, HealthAnswersMemoryStaysBoundedAndTheDaemonStillWorks) {
  auto serve = ServeProcess::Start(GITDISC_BINARY);
  ASSERT_TRUE(serve.ok()) << serve.status().ToString();
  ServeProcess& d = **serve;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ProbeHealth(d.port(), 2s).ok);
  const ProcMemory before = d.Memory();

  AttackMix mix;  // 300 idle, 40 slowloris, 4 endless headers, 4 bodies without length, 2 floods
  HttpAttack attack(d.port(), mix);
  attack.Start();
  std::vector<double> ms;
  int failed = 0;
  uint64_t peak_rss = 0;
  const auto end = std::chrono::steady_clock::now() + 25s;  // past the 10 s head deadline twice
  while (std::chrono::steady_clock::now() < end) {
    ProbeResult p = ProbeHealth(d.port(), 2s);
    ms.push_back(p.ms);
    if (!p.ok) ++failed;
    peak_rss = std::max(peak_rss, d.Memory().rss_bytes);
    std::this_thread::sleep_for(100ms);
  }
  const AttackCounts counts = attack.counts();
  const std::string metrics = d.Metrics();
  attack.Stop();
  const ProcMemory after = d.Memory();

  std::sort(ms.begin(), ms.end());
  std::printf("probes %zu, failed %d, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", ms.size(), failed,
              ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back());
  std::printf("attack: %llu connections opened, %llu closed by the server, %.1f MiB sent, "
              "%llu bad signatures (%llu answered 401)\n",
              static_cast<unsigned long long>(counts.connections),
              static_cast<unsigned long long>(counts.closed_by_server),
              static_cast<double>(counts.bytes_sent) / kMiB,
              static_cast<unsigned long long>(counts.bad_signature_requests),
              static_cast<unsigned long long>(counts.bad_signature_401));
  std::printf("daemon memory: VmRSS %.1f MiB before, peak %.1f MiB, VmHWM %.1f MiB after\n",
              static_cast<double>(before.rss_bytes) / kMiB, static_cast<double>(peak_rss) / kMiB,
              static_cast<double>(after.hwm_bytes) / kMiB);

  EXPECT_EQ(failed, 0) << "every /healthz probe answers 200 within 2 s";
  EXPECT_GT(ms.size(), 100u);
  EXPECT_LT(ms.back(), 2000.0);
  // Bounded: 256 connections of at most 32 KiB of head buffer, a 32 MiB body
  // budget, a few threads. The unbounded header line alone grew it by
  // hundreds of MiB before.
  EXPECT_LT(after.hwm_bytes, before.rss_bytes + 96 * kMiB);
  // Every attack reached the bound that stops it.
  EXPECT_GT(Metric(metrics, "gitdisc_http_refused_total{reason=\"head_timeout\"}"), 0) << metrics;
  EXPECT_GT(Metric(metrics, "gitdisc_http_refused_total{reason=\"head_too_large\"}"), 0);
  EXPECT_GT(Metric(metrics, "gitdisc_http_refused_total{reason=\"length_required\"}"), 0);
  EXPECT_GT(Metric(metrics, "gitdisc_http_refused_total{reason=\"evicted\"}") +
                Metric(metrics, "gitdisc_http_refused_total{reason=\"per_client\"}"),
            0);
  EXPECT_GT(counts.bad_signature_401, 100u);
  EXPECT_LE(Metric(metrics, "gitdisc_http_connections"), 256);

  // Still working: a signed webhook triggers a reconcile.
  double reconciles = d.ScansFinished();
  ASSERT_GE(reconciles, 1) << d.Metrics() << "\nlog: " << d.log_path();
  EXPECT_EQ(d.SignedWebhook("after-the-attack"), 202);
  auto until = std::chrono::steady_clock::now() + 20s;
  while (d.ScansFinished() <= reconciles && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(d.ScansFinished(), reconciles) << "the webhook led to a reconcile";
  EXPECT_EQ(d.Terminate(15s), 0) << "see " << d.log_path();
}

}  // namespace
}  // namespace gitdisc::test_support
