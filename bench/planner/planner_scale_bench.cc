// Planner at scale (docs/benchmarks.md, issue 9 row 6): the decisions of one
// pass for VMS VMs and SETS PayloadSets, measured in-process:
//
//   assemble  reconciler::AssembleDesired — every VM against every set's
//             selector, per-VM unions, bundle digests — from a real Git
//             snapshot (one spec file and one payload folder per set) and the
//             inventory of a FakeProvider holding VMS VMs;
//   plan      reconciler::MakePlan on that desired state, twice: a fleet that
//             has nothing yet (every VM gets an install or waits for its
//             rollout) and a fleet in sync (every ledger holds every payload).
//
// Labels: role=r<i%50>, zone=z<i%20>; sets 0..SETS/2-1 select a role, the
// others a zone, so each VM is selected by SETS/100 + SETS/40 sets (7 with
// the defaults). Goal (issue 9): < 250 ms and < 150 MiB peak RSS.
//
// Usage: planner_scale_bench [VMS] [SETS] [RUNS]   (defaults 10000 200 5)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "providers/fake_provider.h"
#include "reconciler/desired.h"
#include "reconciler/observed.h"
#include "reconciler/planner.h"
#include "specs/source.h"

namespace {

using Clock = std::chrono::steady_clock;
using gitdisc::reconciler::ObservedVm;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double PeakRssMiB() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Write(const std::string& path, const std::string& text, int mode = 0644) {
  if (!gitdisc::MakeDirs(path.substr(0, path.rfind('/'))).ok() ||
      !gitdisc::WriteFileAtomic(path, text, mode).ok()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int vms = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int sets = argc > 2 ? std::atoi(argv[2]) : 200;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  if (vms <= 0 || sets < 2 || runs <= 0) {
    std::fprintf(stderr, "usage: planner_scale_bench [VMS] [SETS] [RUNS]\n");
    return 2;
  }
  char tmpl[] = "/tmp/gitdisc-planner-bench-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  std::string repo = root + "/repo";
  for (int i = 0; i < sets; ++i) {
    std::string n = std::to_string(i);
    std::string selector = i < sets / 2 ? "role: r" + std::to_string(i % 50)
                                        : "zone: z" + std::to_string(i % 20);
    Write(repo + "/set-" + n + ".yaml",
          "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: set-" + n +
              "}\nspec:\n  selector: {matchLabels: {" + selector + "}}\n  payloads:\n"
              "    - {name: p-" + n + ", version: \"1\", path: payloads/p-" + n +
              ", run: [\"./install.sh\"]}\n  rollout: {maxParallel: \"10%\"}\n");
    Write(repo + "/payloads/p-" + n + "/install.sh", "#!/bin/sh\necho " + n + "\n", 0755);
  }
  std::string git = "cd " + repo +
                    " && git init -q -b main && git add -A && git -c user.name=b -c "
                    "user.email=b@b commit -qm bench";
  if (std::system(git.c_str()) != 0) return 2;

  gitdisc::specs::GitLibrary lib;
  gitdisc::specs::SourceOptions so;
  so.repo = repo;
  so.state_dir = root + "/state";
  auto src = gitdisc::specs::Source::Open(lib, so);
  if (!src.ok()) return 2;
  auto snap = (*src)->Load("main");
  if (!snap.ok() || !(*snap)->valid()) {
    std::fprintf(stderr, "snapshot: %s\n",
                 snap.ok() ? (*snap)->diagnostics().at(0).ToString().c_str()
                           : snap.status().ToString().c_str());
    return 2;
  }

  gitdisc::FakeProvider provider({"qemu:///system"});
  for (int i = 0; i < vms; ++i) {
    provider.AddVm({.name = "vm-" + std::to_string(i),
                    .labels = {{"role", "r" + std::to_string(i % 50)},
                               {"zone", "z" + std::to_string(i % 20)}}});
  }
  auto inventory = provider.ListVms();
  if (!inventory.ok()) return 2;

  std::vector<double> assemble_ms, fresh_ms, sync_ms;
  size_t bundles = 0, actions = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    auto desired = gitdisc::reconciler::AssembleDesired(**snap, *inventory);
    auto t1 = Clock::now();
    if (!desired.ok()) {
      std::fprintf(stderr, "assemble: %s\n", desired.status().ToString().c_str());
      return 2;
    }
    bundles = desired->bundles.size();

    // Observations as the agents would report them: nothing yet, or everything.
    std::vector<ObservedVm> fresh, synced;
    fresh.reserve(inventory->size());
    synced.reserve(inventory->size());
    for (const gitdisc::VmInfo& info : *inventory) {
      ObservedVm o = gitdisc::reconciler::ObservedFromInfo(info, {root + "/state/isos"});
      o.agent_reachable = true;
      fresh.push_back(o);
      auto want = desired->state.vms.find(info.key);
      if (want != desired->state.vms.end()) {
        for (const auto& p : want->second.payloads) {
          o.ledger.push_back({"op-bench", p.name, p.digest, "ok", ""});
        }
      }
      synced.push_back(std::move(o));
    }
    auto t2 = Clock::now();
    auto plan = gitdisc::reconciler::MakePlan(desired->state, fresh, {});
    auto t3 = Clock::now();
    auto in_sync = gitdisc::reconciler::MakePlan(desired->state, synced, {});
    auto t4 = Clock::now();
    if (!in_sync.InSync()) {
      std::fprintf(stderr, "the synced fleet is not in sync: the bench is wrong\n");
      return 2;
    }
    actions = 0;
    for (const auto& v : plan.vms) actions += v.kind == gitdisc::reconciler::PlanKind::kInstall;
    assemble_ms.push_back(Ms(t1 - t0));
    fresh_ms.push_back(Ms(t3 - t2));
    sync_ms.push_back(Ms(t4 - t3));
  }
  double total = Median(assemble_ms) + Median(fresh_ms);
  double rss = PeakRssMiB();
  std::printf("fleet: %d VMs x %d sets, %zu distinct bundles, %zu installs planned now\n", vms,
              sets, bundles, actions);
  std::printf("assemble desired (median of %d): %8.1f ms\n", runs, Median(assemble_ms));
  std::printf("plan, new fleet  (median of %d): %8.1f ms\n", runs, Median(fresh_ms));
  std::printf("plan, in sync    (median of %d): %8.1f ms\n", runs, Median(sync_ms));
  std::printf("assemble + plan: %.1f ms (goal < 250 ms: %s); peak RSS %.1f MiB (goal < 150: %s)\n",
              total, total < 250 ? "met" : "MISSED", rss, rss < 150 ? "met" : "MISSED");
  (void)gitdisc::RemoveAll(root);
  return 0;
}
