// healthz_abuse_bench: /healthz latency of the real `gitdisc serve` while
// idle and under the abuse mix of issue 13 (docs/benchmarks.md row 9): 300
// idle connections, 40 slowloris heads, endless header lines, POST bodies
// without length and floods of bad webhook signatures, from 127.0.0.2… ; the
// probes come from 127.0.0.1, a new connection each, as a load balancer's
// would. No VM (an empty fleet on test:///default).
//
//   healthz_abuse_bench [IDLE_PROBES] [ATTACK_SECONDS]     (defaults 300, 30)
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "tests/support/http_attack.h"
#include "tests/support/serve_process.h"

namespace gitdisc::bench {
namespace {

using namespace std::chrono_literals;
using test_support::ProbeHealth;

struct Probes {
  std::vector<double> ms;
  int failed = 0;
};

void Probe(int port, Probes* out) {
  auto r = ProbeHealth(port, 2s);
  out->ms.push_back(r.ms);
  if (!r.ok) ++out->failed;
}

std::string Summary(const Probes& p) {
  char text[160];
  std::snprintf(text, sizeof text, "p50 %s, p99 %s, max %s over %zu probes, %d failed",
                Duration(Percentile(p.ms, 50) / 1000).c_str(),
                Duration(Percentile(p.ms, 99) / 1000).c_str(),
                Duration(Percentile(p.ms, 100) / 1000).c_str(), p.ms.size(), p.failed);
  return text;
}

int Main(int argc, char** argv) {
  int idle_probes = argc > 1 ? std::atoi(argv[1]) : 300;
  int attack_seconds = argc > 2 ? std::atoi(argv[2]) : 30;
  auto serve = test_support::ServeProcess::Start(GITDISC_BINARY);
  if (!serve.ok()) Die("gitdisc serve", serve.status());
  test_support::ServeProcess& d = **serve;

  Probes idle;
  for (int i = 0; i < idle_probes; ++i) {
    Probe(d.port(), &idle);
    std::this_thread::sleep_for(20ms);
  }
  std::printf("idle:         %s\n", Summary(idle).c_str());

  test_support::HttpAttack attack(d.port(), test_support::AttackMix{});
  attack.Start();
  std::this_thread::sleep_for(2s);  // the attackers hold their connections
  Probes abused;
  auto end = BenchClock::now() + std::chrono::seconds(attack_seconds);
  while (BenchClock::now() < end) {
    Probe(d.port(), &abused);
    std::this_thread::sleep_for(50ms);
  }
  test_support::AttackCounts c = attack.counts();
  attack.Stop();
  std::printf("under attack: %s\n", Summary(abused).c_str());
  std::printf("attack: %llu connections opened, %llu closed by the daemon, %s sent, %llu bad "
              "signatures; daemon VmHWM %s\n",
              static_cast<unsigned long long>(c.connections),
              static_cast<unsigned long long>(c.closed_by_server), Bytes(c.bytes_sent).c_str(),
              static_cast<unsigned long long>(c.bad_signature_requests),
              Bytes(d.Memory().hwm_bytes).c_str());
  int rc = d.Terminate(15s);
  if (rc != 0) Die("gitdisc serve", Status::Internal("exit status " + std::to_string(rc)));

  double p99 = Percentile(abused.ms, 99);
  Row row;
  row.number = 9;
  row.what = "`/healthz` latency under the abuse mix (real `gitdisc serve`)";
  row.gitdisc = "under abuse: **" + Summary(abused) + "**";
  row.alternative = "the same daemon idle: " + Summary(idle);
  row.goal = "p99 < 100 ms under abuse, no probe failed";
  row.met = p99 < 100 && abused.failed == 0;
  PrintRow(row);
  return 0;
}

}  // namespace
}  // namespace gitdisc::bench

int main(int argc, char** argv) {
  return gitdisc::bench::RunBench("healthz_abuse_bench", [&] { return gitdisc::bench::Main(argc, argv); });
}
