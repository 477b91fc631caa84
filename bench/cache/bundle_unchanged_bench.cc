// Benchmark (docs/benchmarks.md row 2): a new commit that changes only an
// unrelated file (README.md), so every bundle stays the same.
//
// A fleet repository with one PayloadSet whose payload is a 32 MiB mixed tree
// (one 24 MiB file + 256 files of 32 KiB), two simulated VMs (FakeProvider +
// the real agent) that already applied the first commit. Then RUNS times:
// commit a README change, and measure, interleaved:
//   builder   what the bundle path does for the new commit: a fresh Source
//             loads it, AssembleDesired, then EnsureImage (pin — a durable
//             pin file — cache lookup, LRU stamp) and Unpin, for every
//             bundle; bytes this process wrote (/proc/self/io: wchar = write
//             calls, write_bytes = storage) and wall time;
//   pass      a whole controller pass (RunPass, execute) on the new commit:
//             poll, list, assemble, observe both agents, plan (in sync), no
//             action; storage bytes and time (wchar counts the agents'
//             socket traffic here, so it is not reported);
//   xorriso   what a pipeline that rebuilds the image on every commit does:
//             `xorriso -as mkisofs -R -J` of the payload folder; the image's
//             bytes and the time;
// and checks that the cache holds the same image files, unchanged in size.
//
// Usage: bundle_unchanged_bench [RUNS=9]
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "tests/support/fake_fleet.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/image_dir.h"
#include "bench/support/proc_stats.h"
#include "bench/support/shell.h"
#include "reconciler/bundle_builder.h"
#include "reconciler/controller.h"
#include "reconciler/desired.h"
#include "specs/git_library.h"
#include "specs/source.h"

namespace gitdisc::bench {
namespace {

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace
}  // namespace gitdisc::bench

static int Main(int argc, char** argv) {
  using namespace gitdisc;
  using namespace gitdisc::bench;
  int runs = argc > 1 ? std::atoi(argv[1]) : 9;
  if (runs < 3) runs = 3;
  std::string root = "/tmp/gitdisc-unchanged-bench-" + std::to_string(::getpid());
  std::string repo = root + "/repo";
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  BenchSet set{.name = "web",
               .match_labels = "role: web",
               .payloads = {{.name = "app", .path = "payloads/app"}}};
  Status st = WriteTreeFile(repo, "sets/web.yaml", PayloadSetYaml(set));
  if (st.ok()) st = WriteTreeFile(repo, "payloads/app/install.sh", "#!/bin/sh\ntrue\n", 0755);
  if (st.ok()) st = WriteRandomTree(repo, "payloads/app", 24u << 20, 256, 32u << 10, 7);
  if (st.ok()) st = WriteTreeFile(repo, "README.md", "# fleet\n");
  if (!st.ok()) Die("write repo", st);
  if (auto c = GitCommitAll(repo, "fleet"); !c.ok()) Die("commit", c.status());

  specs::GitLibrary git;
  auto open_source = [&](const std::string& state) {
    specs::SourceOptions so;
    so.repo = repo;
    so.state_dir = state;
    auto s = specs::Source::Open(git, so);
    if (!s.ok()) Die("open source", s.status());
    return std::move(s).value();
  };
  auto source = open_source(root + "/state");            // the controller's
  auto builder_source = open_source(root + "/state-b");  // the builder path's
  iso::IsoCacheOptions co;
  co.dir = root + "/state/isos";
  auto cache = iso::IsoCache::Open(co);
  if (!cache.ok()) Die("open cache", cache.status());

  testing::FakeFleet fleet({.state_dir = root + "/agents"});
  fleet.AddVm("web-1", {{"role", "web"}});
  fleet.AddVm("web-2", {{"role", "web"}});
  fleet.provider().set_record_calls(false);
  SystemClock clock;
  reconciler::ControllerOptions copts;
  copts.exec.eject_retry_delay = std::chrono::milliseconds(10);
  copts.idle_poll = std::chrono::milliseconds(10);
  reconciler::Controller controller(&fleet.provider(), source.get(), cache->get(), &clock, copts);

  // The first commit: built once, applied on both VMs.
  auto t0 = BenchClock::now();
  auto first = controller.RunUntilConverged(BenchClock::now() + std::chrono::minutes(5));
  if (!first.ok()) Die("first commit", first.status());
  if (!first->converged) Die("first commit", Status::Internal("did not converge"));
  double first_s = SecondsSince(t0);
  ImageDir before = CountImages(co.dir);
  std::printf("first commit: image built and applied on 2 VMs in %s; cache: %d image(s), %s\n",
              Duration(first_s).c_str(), before.images, Bytes(before.bytes).c_str());
  // Warm the builder path's Source on the first commit (its digests cache).
  if (auto s = builder_source->Load(""); !s.ok()) Die("load", s.status());

  std::vector<double> builder_s, pass_s, xorriso_s, builder_wchar, builder_storage, pass_storage,
      xorriso_bytes;
  bool any_built = false;
  std::vector<double> pass_cpu;              // CPU of all threads during the pass
  std::vector<std::array<double, 4>> steps;  // load, assemble, ensure + unpin, CPU
  for (int r = 0; r < runs; ++r) {
    if (Status w =
            WriteTreeFile(repo, "README.md", "# fleet\nrevision " + std::to_string(r) + "\n");
        !w.ok()) {
      Die("write README", w);
    }
    auto sha = GitCommitAll(repo, "README " + std::to_string(r));
    if (!sha.ok()) Die("commit", sha.status());

    // builder
    IoCounters io0 = ReadIoCounters();
    double cpu0 = ThreadCpuSeconds();
    t0 = BenchClock::now();
    auto snap = builder_source->Load(*sha);
    if (!snap.ok()) Die("load", snap.status());
    double load = SecondsSince(t0);
    auto inventory = fleet.provider().ListVms();
    if (!inventory.ok()) Die("list", inventory.status());
    auto desired = reconciler::AssembleDesired(**snap, *inventory);
    if (!desired.ok()) Die("assemble", desired.status());
    double assembled = SecondsSince(t0);
    for (const auto& [digest, payloads] : desired->bundles) {
      auto img = reconciler::EnsureImage(**cache, *snap, digest, payloads, "bench/web");
      if (!img.ok()) Die("ensure", img.status());
      any_built |= img->built;
      if (Status u = (*cache)->Unpin(digest, "bench/web"); !u.ok()) Die("unpin", u);
    }
    double b = SecondsSince(t0);
    steps.push_back({load, assembled - load, b - assembled, ThreadCpuSeconds() - cpu0});
    IoCounters io1 = ReadIoCounters();

    // pass
    timespec c0{}, c1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    t0 = BenchClock::now();
    auto pass = controller.RunPass(/*execute=*/true);
    double p = SecondsSince(t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    pass_cpu.push_back(static_cast<double>(c1.tv_sec - c0.tv_sec) +
                       static_cast<double>(c1.tv_nsec - c0.tv_nsec) / 1e9);
    IoCounters io2 = ReadIoCounters();
    if (!pass.ok()) Die("pass", pass.status());
    if (pass->executed != 0 || !pass->converged || pass->plan.revision != *sha) {
      Die("pass", Status::Internal("expected an in-sync pass at the new commit"));
    }

    // xorriso
    std::string out = root + "/rebuild.iso";
    t0 = BenchClock::now();
    if (Sh("xorriso -as mkisofs -quiet -R -J -o " + Quote(out) + " " +
           Quote(repo + "/payloads/app") + " 2>/dev/null") != 0) {
      Die("xorriso", Status::Internal("xorriso failed"));
    }
    double x = SecondsSince(t0);
    uint64_t xbytes = FileSize(out);
    ::unlink(out.c_str());

    builder_s.push_back(b);
    pass_s.push_back(p);
    xorriso_s.push_back(x);
    builder_wchar.push_back(static_cast<double>(io1.wchar - io0.wchar));
    builder_storage.push_back(static_cast<double>(io1.write_bytes - io0.write_bytes));
    pass_storage.push_back(static_cast<double>(io2.write_bytes - io1.write_bytes));
    xorriso_bytes.push_back(static_cast<double>(xbytes));
    std::printf(
        "run %d: builder %s (write calls %s, storage %s) | pass %s (storage %s) | xorriso %s "
        "(%s)\n",
        r + 1, Duration(b).c_str(), Bytes(io1.wchar - io0.wchar).c_str(),
        Bytes(io1.write_bytes - io0.write_bytes).c_str(), Duration(p).c_str(),
        Bytes(io2.write_bytes - io1.write_bytes).c_str(), Duration(x).c_str(),
        Bytes(xbytes).c_str());
    std::fflush(stdout);
  }
  ImageDir after = CountImages(co.dir);
  std::printf("cache after %d commits: %d image(s), %s (before: %d, %s); any image built: %s\n",
              runs, after.images, Bytes(after.bytes).c_str(), before.images,
              Bytes(before.bytes).c_str(), any_built ? "YES" : "no");
  double mb = Median(builder_s), mp = Median(pass_s), mx = Median(xorriso_s);
  auto mw = static_cast<uint64_t>(Median(builder_wchar));
  auto ms = static_cast<uint64_t>(Median(builder_storage));
  auto mps = static_cast<uint64_t>(Median(pass_storage));
  std::printf("median builder path: %s, write calls %s, storage %s\n", Duration(mb).c_str(),
              Bytes(mw).c_str(), Bytes(ms).c_str());
  std::vector<double> st_load, st_assemble, st_ensure, st_cpu;
  for (const auto& s4 : steps) {
    st_load.push_back(s4[0]);
    st_assemble.push_back(s4[1]);
    st_ensure.push_back(s4[2]);
    st_cpu.push_back(s4[3]);
  }
  std::printf(
      "  of which: load the commit %s, assemble %s, ensure image + pin + unpin %s; CPU %s\n",
      Duration(Median(st_load)).c_str(), Duration(Median(st_assemble)).c_str(),
      Duration(Median(st_ensure)).c_str(), Duration(Median(st_cpu)).c_str());
  std::printf("median controller pass: %s (CPU of all threads %s), storage %s\n",
              Duration(mp).c_str(), Duration(Median(pass_cpu)).c_str(), Bytes(mps).c_str());
  std::printf("median xorriso rebuild: %s, %s written\n", Duration(mx).c_str(),
              Bytes(static_cast<uint64_t>(Median(xorriso_bytes))).c_str());
  bool images_same = !any_built && after.images == before.images && after.bytes == before.bytes;
  char ours[240], alt[120];
  std::snprintf(ours, sizeof ours,
                "controller pass: %s to storage, %s; image %s (builder path for a VM that still "
                "needs the disc: %s incl. a durable %s pin)",
                Bytes(mps).c_str(), Duration(mp).c_str(), images_same ? "untouched" : "REBUILT",
                Duration(mb).c_str(), Bytes(mw).c_str());
  std::snprintf(alt, sizeof alt, "xorriso rebuild: %s, %s",
                Bytes(static_cast<uint64_t>(Median(xorriso_bytes))).c_str(), Duration(mx).c_str());
  PrintRow({.number = 2,
            .what = "next commit, bundle unchanged",
            .gitdisc = ours,
            .alternative = alt,
            .goal = "0 B, < 10 ms",
            .met = images_same && mps == 0 && mp < 0.010});
  (void)RemoveAll(root);
  return images_same ? 0 : 1;
}

int main(int argc, char** argv) {
  return gitdisc::bench::RunBench("bundle_unchanged_bench", [&] { return Main(argc, argv); });
}
