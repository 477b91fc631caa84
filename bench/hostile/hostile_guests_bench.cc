// Benchmark (docs/benchmarks.md row 8): honest VMs converging beside hostile
// guests.
//
// In-process, not real guests: the recording FakeProvider, the REAL agent
// behind each honest VM's channel (tests/support/fake_fleet.h), and behind
// four more VMs a HostileAgent (tests/support/hostile_agent.h): a newline
// flood, a line that never ends, a mute channel, and an event flood once an
// apply comes. The controller runs as the daemon does (Start: scans, workers
// and the rollout queueing the next VMs) with its default bounds; the time is
// from Start until every honest VM is Ready in the status. Each run starts
// from nothing (new cache, new agents); runs alternate without and with the
// hostile guests, and the medians and their ratio are reported, with the peak
// RSS of the process.
//
// Usage: hostile_guests_bench [RUNS] [HONEST_VMS]   (defaults 5, 8)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/source_and_cache.h"
#include "bench/support/proc_stats.h"
#include "reconciler/controller.h"
#include "specs/git_library.h"
#include "specs/source.h"
#include "tests/support/fake_fleet.h"

namespace gitdisc::bench {
namespace {

using testing::Hostility;

void MakeRepo(const std::string& repo) {
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  BenchPayload tool{.name = "tool", .path = "payloads/tool", .timeout = "1m"};
  for (const auto& [name, role] : {std::pair{"app", "app"}, std::pair{"hostile", "hostile"}}) {
    BenchSet set{.name = name, .match_labels = std::string("role: ") + role, .payloads = {tool}};
    if (Status st = WriteTreeFile(repo, std::string(name) + ".yaml", PayloadSetYaml(set));
        !st.ok()) {
      Die("write spec", st);
    }
  }
  if (Status st = WriteTreeFile(repo, "payloads/tool/install.sh", "#!/bin/sh\nexit 0\n", 0755);
      !st.ok()) {
    Die("write payload", st);
  }
  if (auto c = GitCommitAll(repo, "fleet"); !c.ok()) Die("git commit", c.status());
}

// Seconds from Start until every honest VM is Ready.
double RunOnce(specs::GitLibrary& git, const std::string& repo, const std::string& dir,
               int honest, bool hostile) {
  SourceAndCache state = OpenSourceAndCache(git, repo, dir + "/state");
  testing::FakeFleet fleet({.state_dir = dir + "/agents"});
  std::vector<std::string> keys;
  for (int i = 0; i < honest; ++i) keys.push_back(fleet.AddVm("app-" + std::to_string(i), {{"role", "app"}}));
  if (hostile) {
    for (Hostility h : {Hostility::kNewlineFlood, Hostility::kEndlessLine, Hostility::kMute,
                        Hostility::kEventFloodOnApply}) {
      fleet.AddHostileVm(std::string("x-") + testing::HostilityName(h), {{"role", "hostile"}}, h);
    }
  }
  SystemClock clock;
  reconciler::ControllerOptions copts;
  copts.exec.eject_retry_delay = std::chrono::milliseconds(10);
  double seconds = 0;
  {
    reconciler::Controller controller(&fleet.provider(), state.source.get(), state.cache.get(), &clock,
                                      copts);
    auto t0 = BenchClock::now();
    controller.Start();
    for (;;) {
      reconciler::FleetStatus st = controller.Status();
      int ready = 0;
      for (const reconciler::VmStatus& v : st.vms) {
        for (const std::string& k : keys) {
          ready += v.key == k && v.condition == reconciler::VmCondition::kReady;
        }
      }
      if (ready == honest) break;
      if (SecondsSince(t0) > 300) Die("converge", Status::Timeout("honest VMs not Ready in 5 min"));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    seconds = SecondsSince(t0);
    controller.Stop();
  }
  (void)RemoveAll(dir);
  return seconds;
}

}  // namespace
}  // namespace gitdisc::bench

static int Main(int argc, char** argv) {
  using namespace gitdisc;
  using namespace gitdisc::bench;
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  int honest = argc > 2 ? std::atoi(argv[2]) : 8;
  std::string root = "/tmp/gitdisc-hostile-bench-" + std::to_string(::getpid());
  std::string repo = root + "/repo";
  MakeRepo(repo);
  specs::GitLibrary git;
  std::vector<double> without, with;
  for (int r = 0; r < runs; ++r) {
    without.push_back(RunOnce(git, repo, root + "/run", honest, false));
    with.push_back(RunOnce(git, repo, root + "/run", honest, true));
    std::printf("run %d: %d honest VMs Ready in %s alone, %s beside 4 hostile guests\n", r + 1,
                honest, Duration(without.back()).c_str(), Duration(with.back()).c_str());
  }
  double a = Median(without), b = Median(with);
  double ratio = a > 0 ? b / a : 0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.2f", ratio);
  std::printf("median: alone %s, beside hostile guests %s, ratio %s; peak RSS %s\n",
              Duration(a).c_str(), Duration(b).c_str(), buf, Bytes(PeakRssBytes()).c_str());
  PrintRow({8,
            std::to_string(honest) +
                " honest VMs converge beside 4 hostile guests (in-process: FakeFleet + "
                "HostileAgent; newline flood, endless line, mute, event flood on apply)",
            "**" + Duration(b) + "** (median of " + std::to_string(runs) + "), ratio **" + buf +
                "×**, peak RSS " + Bytes(PeakRssBytes()),
            "the same fleet without them: " + Duration(a), "≤ 1.5×", ratio <= 1.5});
  (void)RemoveAll(root);
  return 0;
}

int main(int argc, char** argv) {
  return gitdisc::bench::RunBench("hostile_guests_bench", [&] { return Main(argc, argv); });
}
