// Benchmark (docs/benchmarks.md row 3, simulated part): N VMs, one bundle.
//
// A fleet repository with one PayloadSet (role: web) whose payload is an
// 8 MiB mixed tree. For each N in 1, 4, 16: an empty image cache, N VMs in
// the recording FakeProvider with the real agent behind each channel, and
// `RunUntilConverged` (the code of `gitdisc reconcile`). Reported: images
// built (the controller's counter), images in the cache and their bytes, the
// inserts the provider recorded and how many distinct image paths they used,
// and the wall time. Beside it, in the same run: one image per VM, as
// per-VM seed discs are made, with `xorriso -as mkisofs -R -J` — images and
// bytes on disk.
//
// Usage: shared_image_bench [N...]   (default: 1 4 16)
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "tests/support/fake_fleet.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/source_and_cache.h"
#include "bench/support/image_dir.h"
#include "bench/support/shell.h"
#include "reconciler/controller.h"
#include "specs/git_library.h"
#include "specs/source.h"

namespace gitdisc::bench {
namespace {

struct Result3 {
  int vms = 0;
  uint64_t builds = 0;
  int images = 0;
  uint64_t disk = 0;
  int inserts = 0;
  size_t distinct_paths = 0;
  double seconds = 0;
  int alt_images = 0;
  uint64_t alt_disk = 0;
  double alt_seconds = 0;
};

Result3 RunFleet(specs::GitLibrary& git, const std::string& repo, const std::string& root, int n) {
  Result3 r;
  r.vms = n;
  std::string dir = root + "/n" + std::to_string(n);
  SourceAndCache state = OpenSourceAndCache(git, repo, dir + "/state");
  testing::FakeFleet fleet({.state_dir = dir + "/agents"});
  for (int i = 0; i < n; ++i) fleet.AddVm("web-" + std::to_string(100 + i), {{"role", "web"}});
  SystemClock clock;
  reconciler::ControllerOptions copts;
  copts.exec.eject_retry_delay = std::chrono::milliseconds(10);
  copts.idle_poll = std::chrono::milliseconds(10);
  {
    reconciler::Controller controller(&fleet.provider(), state.source.get(), state.cache.get(), &clock,
                                      copts);
    auto t0 = BenchClock::now();
    auto pass = controller.RunUntilConverged(BenchClock::now() + std::chrono::minutes(10));
    r.seconds = SecondsSince(t0);
    if (!pass.ok()) Die("reconcile", pass.status());
    if (!pass->converged) Die("reconcile", Status::Internal("did not converge"));
    r.builds = controller.Status().counters.iso_builds_total;
  }
  std::set<std::string> paths;
  for (const std::string& c : fleet.provider().calls()) {
    if (c.rfind("InsertMedia ", 0) != 0) continue;
    ++r.inserts;
    paths.insert(c.substr(c.rfind(' ') + 1));
  }
  r.distinct_paths = paths.size();
  ImageDir cached = CountImages(dir + "/state/isos");
  r.images = cached.images;
  r.disk = cached.disk;

  // One image per VM (the per-VM seed disc way), same payload folder.
  std::string alt = dir + "/per-vm";
  if (Status st = MakeDirs(alt); !st.ok()) Die("mkdir", st);
  auto t0 = BenchClock::now();
  for (int i = 0; i < n; ++i) {
    if (Sh("xorriso -as mkisofs -quiet -R -J -V web-" + std::to_string(100 + i) + " -o " +
           Quote(alt + "/web-" + std::to_string(100 + i) + ".iso") + " " +
           Quote(repo + "/payloads/app") + " 2>/dev/null") != 0) {
      Die("xorriso", Status::Internal("failed"));
    }
  }
  r.alt_seconds = SecondsSince(t0);
  ImageDir per_vm = CountImages(alt);
  r.alt_images = per_vm.images;
  r.alt_disk = per_vm.disk;
  (void)RemoveAll(dir);
  return r;
}

}  // namespace
}  // namespace gitdisc::bench

static int Main(int argc, char** argv) {
  using namespace gitdisc;
  using namespace gitdisc::bench;
  std::vector<int> ns;
  for (int i = 1; i < argc; ++i) ns.push_back(std::atoi(argv[i]));
  if (ns.empty()) ns = {1, 4, 16};
  std::string root = "/tmp/gitdisc-shared-bench-" + std::to_string(::getpid());
  std::string repo = root + "/repo";
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  BenchSet set{.name = "web",
               .match_labels = "role: web",
               .payloads = {{.name = "app", .path = "payloads/app"}}};
  Status st = WriteTreeFile(repo, "sets/web.yaml", PayloadSetYaml(set));
  if (st.ok()) st = WriteTreeFile(repo, "payloads/app/install.sh", "#!/bin/sh\ntrue\n", 0755);
  if (st.ok()) st = WriteRandomTree(repo, "payloads/app", 6u << 20, 64, 32u << 10, 3);
  if (!st.ok()) Die("write repo", st);
  if (auto c = GitCommitAll(repo, "fleet"); !c.ok()) Die("commit", c.status());

  specs::GitLibrary git;
  std::vector<Result3> results;
  for (int n : ns) {
    Result3 r = RunFleet(git, repo, root, n);
    std::printf(
        "N=%2d: gitdisc %llu image(s) built, %d in the cache, %s on disk, %d inserts of %zu "
        "distinct image path(s), converged in %s | one image per VM (xorriso): %d images, %s, "
        "%s\n",
        n, static_cast<unsigned long long>(r.builds), r.images, Bytes(r.disk).c_str(), r.inserts,
        r.distinct_paths, Duration(r.seconds).c_str(), r.alt_images, Bytes(r.alt_disk).c_str(),
        Duration(r.alt_seconds).c_str());
    std::fflush(stdout);
    results.push_back(r);
  }
  bool one_image = true;
  std::string ours, alt;
  for (const Result3& r : results) {
    one_image &= r.builds == 1 && r.images == 1 && r.distinct_paths == 1 && r.inserts == r.vms;
    ours += (ours.empty() ? "" : ", ") + std::string("N=") + std::to_string(r.vms) + ": " +
            std::to_string(r.builds) + " image/" + Bytes(r.disk);
    alt += (alt.empty() ? "" : ", ") + std::string("N=") + std::to_string(r.vms) + ": " +
           std::to_string(r.alt_images) + " images/" + Bytes(r.alt_disk);
  }
  PrintRow({.number = 3,
            .what = "N VMs, one bundle (simulated: recording FakeProvider)",
            .gitdisc = ours,
            .alternative = "one image per VM (xorriso): " + alt,
            .goal = "1 image whatever N",
            .met = one_image});
  (void)RemoveAll(root);
  return one_image ? 0 : 1;
}

int main(int argc, char** argv) {
  return gitdisc::bench::RunBench("shared_image_bench", [&] { return Main(argc, argv); });
}
