// Benchmark (docs/benchmarks.md row 6): the planner at fleet scale.
//
// A Git repository with SETS PayloadSets (SETS-4 "role" sets of one payload
// each and 4 "env" sets, so every VM is selected by two sets and the fleet
// desires (SETS-4)×4 distinct bundles), VMS simulated VMs in the recording
// FakeProvider (calls recorded, as in tests), and for every VM an agent
// ledger: 70 % in sync, 20 % holding an older digest (upgrade), 10 % empty
// (install). Measured, each the median of RUNS:
//   list      FakeProvider::ListVms (the inventory);
//   assemble  AssembleDesired: selectors × VMs, unions, bundle digests;
//   plan      MakePlan: one decision per VM + rollout of every set;
// and the process's peak RSS (getrusage) at the end. The same is measured
// at VMS/10 first, in the same run, to show how it scales.
//
// Usage: planner_scale_bench [VMS=10000] [SETS=200] [RUNS=5]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/proc_stats.h"
#include "tests/support/fake_provider.h"
#include "reconciler/desired.h"
#include "reconciler/observed.h"
#include "reconciler/planner.h"
#include "specs/git_library.h"
#include "specs/source.h"

namespace gitdisc::bench {
namespace {

struct Figures {
  double list = 0, assemble = 0, plan = 0;
  size_t bundles = 0, actions = 0;
};

Figures Measure(const specs::Snapshot& snap, int vms, int role_sets, int runs) {
  FakeProvider provider({"qemu:///system"});
  for (int v = 0; v < vms; ++v) {
    provider.AddVm({.name = "vm-" + std::to_string(100000 + v),
                    .labels = {{"role", "r" + std::to_string(v % role_sets)},
                               {"env", "e" + std::to_string((v / role_sets) % 4)}}});
  }
  Figures f;
  std::vector<double> list, assemble, plan;
  for (int r = 0; r < runs; ++r) {
    auto t0 = BenchClock::now();
    auto inventory = provider.ListVms();
    list.push_back(SecondsSince(t0));
    if (!inventory.ok()) Die("ListVms", inventory.status());

    t0 = BenchClock::now();
    auto desired = reconciler::AssembleDesired(snap, *inventory);
    assemble.push_back(SecondsSince(t0));
    if (!desired.ok()) Die("AssembleDesired", desired.status());

    // What the agents would report (built outside the timed part: in a real
    // pass it arrives over the channels).
    std::vector<reconciler::ObservedVm> observed;
    observed.reserve(inventory->size());
    int i = 0;
    for (const VmInfo& info : *inventory) {
      reconciler::ObservedVm o = reconciler::ObservedFromInfo(info, {"/var/lib/gitdisc/isos"});
      o.agent_reachable = true;
      auto it = desired->state.vms.find(info.key);
      int kind = i++ % 10;  // 0: install, 1-2: upgrade, 3-9: in sync
      if (it != desired->state.vms.end() && kind != 0) {
        for (const reconciler::DesiredPayload& p : it->second.payloads) {
          std::string digest = kind <= 2 ? std::string(64, 'a') : p.digest;
          o.ledger.push_back({"op-old", p.name, digest, "ok", ""});
        }
      }
      observed.push_back(std::move(o));
    }

    t0 = BenchClock::now();
    reconciler::Plan p = reconciler::MakePlan(desired->state, observed, {});
    plan.push_back(SecondsSince(t0));
    f.bundles = desired->bundles.size();
    f.actions = static_cast<size_t>(p.Pending());
  }
  f.list = Median(list);
  f.assemble = Median(assemble);
  f.plan = Median(plan);
  return f;
}

}  // namespace
}  // namespace gitdisc::bench

static int Main(int argc, char** argv) {
  using namespace gitdisc;
  using namespace gitdisc::bench;
  int vms = argc > 1 ? std::atoi(argv[1]) : 10000;
  int sets = argc > 2 ? std::atoi(argv[2]) : 200;
  int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  if (sets < 5 || vms < 10 || runs < 1) {
    std::fprintf(stderr, "usage: planner_scale_bench [VMS>=10] [SETS>=5] [RUNS>=1]\n");
    return 2;
  }
  int role_sets = sets - 4;
  std::string root = "/tmp/gitdisc-planner-bench-" + std::to_string(::getpid());
  std::string repo = root + "/repo";
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  for (int i = 0; i < sets; ++i) {
    bool env = i >= role_sets;
    std::string n = env ? "env-" + std::to_string(i - role_sets) : "role-" + std::to_string(i);
    BenchSet s{.name = n,
               .match_labels =
                   env ? "env: e" + std::to_string(i - role_sets) : "role: r" + std::to_string(i),
               .payloads = {{.name = "p-" + n, .path = "payloads/" + n}},
               .max_parallel = "10%"};
    Status st = WriteTreeFile(repo, "sets/" + n + ".yaml", PayloadSetYaml(s));
    if (st.ok()) {
      st =
          WriteTreeFile(repo, "payloads/" + n + "/install.sh", "#!/bin/sh\necho " + n + "\n", 0755);
    }
    if (!st.ok()) Die("write repo", st);
  }
  auto sha = GitCommitAll(repo, "fleet");
  if (!sha.ok()) Die("commit", sha.status());

  specs::GitLibrary git;
  specs::SourceOptions so;
  so.repo = repo;
  so.state_dir = root + "/state";
  auto source = specs::Source::Open(git, so);
  if (!source.ok()) Die("open source", source.status());
  auto snap = (*source)->Load("");
  if (!snap.ok()) Die("load", snap.status());
  if (!(*snap)->valid()) Die("load", Status::Invalid("the generated specs are not valid"));
  // Warm the snapshot's memoised payload digests (a daemon has them from
  // its previous pass), so the figures are the planner's, not Git's.
  (void)Measure(**snap, 10, role_sets, 1);
  uint64_t rss_before = CurrentRssBytes();

  Figures small = Measure(**snap, vms / 10, role_sets, runs);
  Figures big = Measure(**snap, vms, role_sets, runs);
  uint64_t peak = PeakRssBytes();

  auto line = [&](int n, const Figures& f) {
    std::printf(
        "%6d VMs x %d sets: list %s, assemble %s, plan %s, assemble+plan %s "
        "(%zu bundles, %zu VMs with actions)\n",
        n, sets, Duration(f.list).c_str(), Duration(f.assemble).c_str(), Duration(f.plan).c_str(),
        Duration(f.assemble + f.plan).c_str(), f.bundles, f.actions);
  };
  std::printf(
      "medians of %d runs; recording FakeProvider; ledgers 70%% in sync, 20%% old, 10%% "
      "empty\n",
      runs);
  line(vms / 10, small);
  line(vms, big);
  std::printf("resident before the runs: %s; peak RSS of the process: %s\n",
              Bytes(rss_before).c_str(), Bytes(peak).c_str());
  double total = big.assemble + big.plan;
  char ours[160], alt[160];
  std::snprintf(ours, sizeof ours, "%s (assemble %s + plan %s), peak RSS %s",
                Duration(total).c_str(), Duration(big.assemble).c_str(), Duration(big.plan).c_str(),
                Bytes(peak).c_str());
  std::snprintf(alt, sizeof alt,
                "no external tool plans this; same code at %d VMs: %s (x%.1f for 10x VMs)",
                vms / 10, Duration(small.assemble + small.plan).c_str(),
                total / (small.assemble + small.plan));
  PrintRow({.number = 6,
            .what = "planner, " + std::to_string(vms) + " VMs x " + std::to_string(sets) + " sets",
            .gitdisc = ours,
            .alternative = alt,
            .goal = "< 250 ms, < 150 MiB",
            .met = total < 0.25 && peak < (150ull << 20)});
  (void)RemoveAll(root);
  return 0;
}

int main(int argc, char** argv) {
  return gitdisc::bench::RunBench("planner_scale_bench", [&] { return Main(argc, argv); });
}
