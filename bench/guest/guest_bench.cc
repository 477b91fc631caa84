// Benchmarks on real guests (docs/benchmarks.md rows 3-real, 4 and 7), under
// QEMU/TCG through libvirt, against qemu-guest-agent in the same guests.
//
// Boots 3 benchmark guests (bench/guest/build-bench-guest.sh: the test guest
// + Debian's qemu-ga; 512 MiB; both agents on their own virtio-serial port)
// and then:
//   row 3 (real)  one PayloadSet selecting the 3 guests, an 8 MiB payload,
//                 the real Controller (LibvirtProvider, Git source, image
//                 cache) until converged: images built and disk used; beside
//                 it one xorriso image per VM. Then guests 2 and 3 go.
//   row 4         RUNS times, interleaved, a fresh 64 MiB payload (random
//                 bytes, new each run, so no cache in the guest can help):
//                   gitdisc: bundle image written beforehand ("cached"),
//                     then insert → apply → the agent's progress event that
//                     follows its verification of every byte (SHA-256
//                     against the manifest) = "payload verified in the
//                     guest"; `done` is reported too;
//                   qemu-ga: guest-file-open/-write (base64 chunks of the
//                     size that wrote fastest in a probe)/-close of the same
//                     bytes into /tmp, then guest-exec sha256sum and a
//                     compare = verified in the guest.
//   row 7         RUNS times, interleaved: the per-VM cycle of the executor
//                 with a payload that runs `true` — observe (open channel,
//                 hello, ledger, status), insert, apply, follow to done,
//                 eject (reconciler::Observe, LibvirtProvider,
//                 AgentClient, reconciler::EjectOurDiscs) — minus the
//                 payload's own run time (the agent's "run" event to its
//                 "result" event); beside it qemu-ga guest-exec of /bin/true
//                 polled with guest-exec-status every 5 ms.
//
// Needs root, libvirtd (started by scripts/start-libvirtd.sh), QEMU and the
// bench guest image. VMs are named gitdisc-test-<pid>-… and destroyed at exit.
//
// Usage: guest_bench [RUNS=3] [GUEST_DIR] [ROWS=347]   (ROWS: which rows to run)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "base/sha256.h"
#include "bench/guest/qga_client.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/image_dir.h"
#include "bench/support/shell.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"
#include "providers/libvirt_provider.h"
#include "reconciler/controller.h"
#include "reconciler/executor.h"
#include "reconciler/observed.h"
#include "specs/git_library.h"
#include "specs/source.h"
#include "tests/support/test_domain.h"

namespace gitdisc::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t w = rng();
    std::memcpy(&s[i], &w, 8);
  }
  return s;
}

// Writes a bundle image named <digest>.iso into dir (mode 0644, readable by
// the QEMU user); returns {digest, path}.
std::pair<std::string, std::string> WriteDisc(const std::string& dir,
                                              std::vector<iso::BundlePayload> payloads) {
  std::string tmp = dir + "/disc.tmp";
  std::string err;
  std::string digest = guest::testing::WriteBundle(std::move(payloads), tmp, &err);
  if (digest.empty()) Die("write bundle", Status::Internal(err));
  std::string path = dir + "/" + digest + ".iso";
  if (::rename(tmp.c_str(), path.c_str()) != 0) Die("rename", Status::FromErrno(path, errno));
  ::chmod(path.c_str(), 0644);
  return {digest, path};
}

std::unique_ptr<guest::AgentClient> Connect(Provider& provider, const std::string& key) {
  auto channel = provider.OpenAgentChannel(key);
  if (!channel.ok()) Die("open channel", channel.status());
  guest::AgentClient::Options o;
  o.request_timeout = milliseconds(5000);
  o.max_attempts = 20;
  o.status_interval = milliseconds(10000);
  return std::make_unique<guest::AgentClient>(std::move(*channel), o);
}

struct Guest {
  std::unique_ptr<test_support::TestDomain> domain;
  std::unique_ptr<QgaClient> qga;
};

// ---- row 3 (real) ------------------------------------------------------------

void RowSharedImage(Provider& provider, const std::string& work, const std::string& label,
                    int vms) {
  std::string repo = work + "/repo";
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  BenchSet set{.name = "shared",
               .match_labels = "gitdisc-bench: \"" + label + "\"",
               .payloads = {{.name = "app", .path = "payloads/app"}}};
  Status st = WriteTreeFile(repo, "sets/shared.yaml", PayloadSetYaml(set));
  if (st.ok()) st = WriteTreeFile(repo, "payloads/app/install.sh", "#!/bin/sh\ntrue\n", 0755);
  if (st.ok()) st = WriteRandomTree(repo, "payloads/app", 6u << 20, 64, 32u << 10, 3);
  if (!st.ok()) Die("write repo", st);
  if (auto c = GitCommitAll(repo, "fleet"); !c.ok()) Die("commit", c.status());

  specs::GitLibrary git;
  specs::SourceOptions so;
  so.repo = repo;
  so.state_dir = work + "/state";
  auto source = specs::Source::Open(git, so);
  if (!source.ok()) Die("open source", source.status());
  iso::IsoCacheOptions co;
  co.dir = work + "/state/isos";
  auto cache = iso::IsoCache::Open(co);
  if (!cache.ok()) Die("open cache", cache.status());
  SystemClock clock;
  reconciler::ControllerOptions copts;
  copts.agent.request_timeout = milliseconds(5000);
  copts.agent.max_attempts = 10;
  reconciler::Controller controller(&provider, source->get(), cache->get(), &clock, copts);
  auto t0 = BenchClock::now();
  auto pass = controller.RunUntilConverged(BenchClock::now() + std::chrono::minutes(10));
  double secs = SecondsSince(t0);
  if (!pass.ok()) Die("reconcile", pass.status());
  if (!pass->converged) Die("reconcile", Status::Internal("the 3 guests did not converge"));
  reconciler::FleetStatus fs = controller.Status();
  ImageDir cached = CountImages(co.dir);
  int images = cached.images;
  uint64_t disk = cached.disk;
  // Beside it: one image per VM.
  std::string alt = work + "/per-vm";
  (void)MakeDirs(alt);
  auto a0 = BenchClock::now();
  for (int i = 0; i < vms; ++i) {
    if (Sh("xorriso -as mkisofs -quiet -R -J -o " +
           Quote(alt + "/vm" + std::to_string(i) + ".iso") + " " + Quote(repo + "/payloads/app") +
           " 2>/dev/null") != 0) {
      Die("xorriso", Status::Internal("failed"));
    }
  }
  double alt_secs = SecondsSince(a0);
  uint64_t alt_disk = CountImages(alt).disk;
  std::printf(
      "row 3, %d real guests: %llu image(s) built, %d in the cache (%s), %llu inserts, converged "
      "in %s | one image per VM (xorriso): %d images, %s, %s\n",
      vms, static_cast<unsigned long long>(fs.counters.iso_builds_total), images,
      Bytes(disk).c_str(), static_cast<unsigned long long>(fs.counters.inserts_total),
      Duration(secs).c_str(), vms, Bytes(alt_disk).c_str(), Duration(alt_secs).c_str());
  bool met = fs.counters.iso_builds_total == 1 && images == 1 &&
             fs.counters.inserts_total == static_cast<uint64_t>(vms);
  PrintRow({.number = 3,
            .what = "N VMs, one bundle (3 real guests)",
            .gitdisc = std::to_string(fs.counters.iso_builds_total) + " image built, " +
                       std::to_string(images) + " on disk (" + Bytes(disk) + "), " +
                       std::to_string(fs.counters.inserts_total) + " inserts",
            .alternative = "one image per VM (xorriso): " + std::to_string(vms) + " images, " +
                           Bytes(alt_disk),
            .goal = "1 image whatever N",
            .met = met});
}

// ---- row 4 ---------------------------------------------------------------------

struct Delivery {
  double verified = 0;  // insert → the event after verification
  double done = 0;      // insert → done
};

Delivery DeliverWithGitdisc(Provider& provider, const std::string& key, const std::string& dir,
                            const std::string& data, int run) {
  iso::BundlePayload p = guest::testing::ScriptPayload("big", "true\n");
  p.version = std::to_string(run);
  p.files.push_back(guest::testing::MemFile("blob.bin", data));
  auto [digest, path] = WriteDisc(dir, {std::move(p)});
  auto client = Connect(provider, key);
  if (auto h = client->Hello(); !h.ok()) Die("hello", h.status());
  std::string op = "bench-deliver-" + std::to_string(::getpid()) + "-" + std::to_string(run);

  Delivery d;
  auto t0 = BenchClock::now();
  if (Status st = provider.InsertMedia(key, "hdc", path); !st.ok()) Die("insert", st);
  if (auto a = client->Apply(op, digest, {"big"}); !a.ok()) Die("apply", a.status());
  auto done = client->WaitForDone(
      op, BenchClock::now() + std::chrono::minutes(10), [&](const guest::AgentMessage& m) {
        auto* pe = std::get_if<guest::ProgressEvent>(&m);
        if (pe && d.verified == 0 && pe->phase == "release") {
          d.verified = SecondsSince(t0);
        }
      });
  d.done = SecondsSince(t0);
  if (!done.ok()) Die("follow", done.status());
  if (done->results.size() != 1 || done->results[0].result != guest::Outcome::kOk) {
    Die("deliver", Status::Internal("the payload did not apply: " + done->message));
  }
  if (d.verified == 0) Die("deliver", Status::Internal("no progress event after verification"));
  if (Status st = provider.EjectMedia(key, "hdc", path, false); !st.ok()) Die("eject", st);
  ::unlink(path.c_str());
  return d;
}

double DeliverWithQga(QgaClient& qga, const std::string& data, size_t chunk) {
  std::string want = Sha256Hex(data);
  auto t0 = BenchClock::now();
  if (Status st = qga.WriteFile("/tmp/payload.bin", data, chunk); !st.ok())
    Die("qemu-ga write", st);
  auto sum = qga.Exec("/bin/sha256sum", {"/tmp/payload.bin"});
  double s = SecondsSince(t0);
  if (!sum.ok()) Die("qemu-ga exec", sum.status());
  if (sum->exit_code != 0 || sum->out.substr(0, 64) != want) {
    Die("qemu-ga", Status::Corrupt("sha256sum in the guest: '" + sum->out + "', want " + want));
  }
  if (auto rm = qga.Exec("/bin/rm", {"-f", "/tmp/payload.bin"}); !rm.ok()) {
    Die("qemu-ga rm", rm.status());
  }
  return s;
}

size_t ProbeQgaChunk(QgaClient& qga) {
  std::string data = RandomBytes(4u << 20, 99);
  size_t best = 0;
  double best_s = 1e9;
  // Larger writes hang here (libvirt 9.0 + qemu-ga 7.2: a command over about
  // 256 KiB of JSON never gets its reply), so 128 KiB is the largest chunk.
  for (size_t chunk : {size_t{32} << 10, size_t{64} << 10, size_t{96} << 10, size_t{128} << 10}) {
    auto t0 = BenchClock::now();
    if (Status st = qga.WriteFile("/tmp/probe.bin", data, chunk); !st.ok())
      Die("qemu-ga probe", st);
    double s = SecondsSince(t0);
    std::printf("qemu-ga probe: 4 MiB in %4zu KiB chunks: %s (%.1f MiB/s)\n", chunk >> 10,
                Duration(s).c_str(), 4 / s);
    if (s < best_s) {
      best_s = s;
      best = chunk;
    }
  }
  (void)qga.Exec("/bin/rm", {"-f", "/tmp/probe.bin"});
  return best;
}

void RowDelivery(Provider& provider, Guest& g, int runs) {
  const size_t size = 64u << 20;
  size_t chunk = ProbeQgaChunk(*g.qga);
  std::vector<double> ours, ours_done, theirs, ratios;
  for (int r = 0; r < runs; ++r) {
    std::string data = RandomBytes(size, 1000 + static_cast<uint64_t>(r));
    Delivery d = DeliverWithGitdisc(provider, g.domain->key(), g.domain->work_dir(), data, r);
    double q = DeliverWithQga(*g.qga, data, chunk);
    ours.push_back(d.verified);
    ours_done.push_back(d.done);
    theirs.push_back(q);
    ratios.push_back(q / d.verified);
    std::printf(
        "row 4 run %d: gitdisc insert→verified %s (→done %s, %.1f MiB/s) | qemu-ga write+sha256sum "
        "%s (%.1f MiB/s) | %.1fx\n",
        r + 1, Duration(d.verified).c_str(), Duration(d.done).c_str(), 64 / d.verified,
        Duration(q).c_str(), 64 / q, q / d.verified);
    std::fflush(stdout);
  }
  double ratio = Median(ratios);
  char ours_s[160], alt_s[160];
  std::snprintf(ours_s, sizeof ours_s, "insert→verified %s (→done %s), %.1f MiB/s",
                Duration(Median(ours)).c_str(), Duration(Median(ours_done)).c_str(),
                64 / Median(ours));
  std::snprintf(alt_s, sizeof alt_s,
                "qemu-ga guest-file-write (%zu KiB chunks) + sha256sum: %s, %.1f MiB/s; median "
                "ratio %.1fx",
                chunk >> 10, Duration(Median(theirs)).c_str(), 64 / Median(theirs), ratio);
  PrintRow({.number = 4,
            .what = "delivery of 64 MiB into a real guest",
            .gitdisc = ours_s,
            .alternative = alt_s,
            .goal = ">= 10x faster",
            .met = ratio >= 10});
}

// ---- row 7 ---------------------------------------------------------------------

struct Cycle {
  double total = 0, observe = 0, insert = 0, to_run = 0, run = 0, to_done = 0, eject = 0;
  std::string phases;  // "disc +12 ms, verify +…": the agent's events after the apply
  double overhead() const { return total - run; }
};

Cycle GitdiscCycle(Provider& provider, const std::string& key, const std::string& dir, int run) {
  iso::BundlePayload p = guest::testing::ScriptPayload("noop", "true\n");
  p.version = std::to_string(run);
  auto [digest, path] = WriteDisc(dir, {std::move(p)});
  std::string op = "bench-cycle-" + std::to_string(::getpid()) + "-" + std::to_string(run);
  reconciler::ObserveOptions oo;
  oo.our_roots = {dir};
  oo.agent.request_timeout = milliseconds(5000);
  oo.agent.max_attempts = 10;
  oo.agent.status_interval = milliseconds(10000);
  reconciler::ExecOptions eo;
  eo.eject_retry_delay = milliseconds(200);

  Cycle c;
  auto t0 = BenchClock::now();
  auto info = provider.GetVm(key);
  if (!info.ok()) Die("get vm", info.status());
  reconciler::Observation ob = reconciler::Observe(provider, *info, oo);
  if (!ob.agent) Die("observe", Status::Unavailable(ob.vm.agent_error));
  c.observe = SecondsSince(t0);
  if (Status st = provider.InsertMedia(key, "hdc", path); !st.ok()) Die("insert", st);
  c.insert = SecondsSince(t0) - c.observe;
  double t_run = 0, t_result = 0;
  double t_apply = SecondsSince(t0);
  if (auto a = ob.agent->Apply(op, digest, {"noop"}); !a.ok()) Die("apply", a.status());
  auto done = ob.agent->WaitForDone(op, BenchClock::now() + std::chrono::minutes(5),
                                    [&](const guest::AgentMessage& m) {
                                      auto* pe = std::get_if<guest::ProgressEvent>(&m);
                                      if (pe) {
                                        c.phases += (c.phases.empty() ? "" : ", ") + pe->phase +
                                                    " +" + Duration(SecondsSince(t0) - t_apply);
                                      }
                                      if (pe && pe->phase == "run") t_run = SecondsSince(t0);
                                      if (std::holds_alternative<guest::ResultEvent>(m)) {
                                        t_result = SecondsSince(t0);
                                      }
                                    });
  double t_done = SecondsSince(t0);
  if (!done.ok()) Die("follow", done.status());
  if (done->results.size() != 1 || done->results[0].result != guest::Outcome::kOk ||
      !done->disc_released) {
    Die("cycle", Status::Internal("the noop payload did not apply: " + done->message));
  }
  auto ejected = reconciler::EjectOurDiscs(provider, key, {dir}, false, eo, nullptr);
  c.total = SecondsSince(t0);
  if (!ejected.ok() || *ejected != 1) Die("eject", ejected.status());
  if (t_run == 0 || t_result == 0) Die("cycle", Status::Internal("no run/result events"));
  c.to_run = t_run - c.observe - c.insert;
  c.run = t_result - t_run;
  c.to_done = t_done - t_result;
  c.eject = c.total - t_done;
  ::unlink(path.c_str());
  return c;
}

void RowOverhead(Provider& provider, Guest& g, int runs) {
  std::vector<double> ours, theirs, observe, insert, to_run, run, to_done, eject;
  // One untimed cycle of each first: connections, page cache.
  (void)GitdiscCycle(provider, g.domain->key(), g.domain->work_dir(), 1000);
  (void)g.qga->Exec("/bin/true", {});
  for (int r = 0; r < runs * 2; ++r) {
    Cycle c = GitdiscCycle(provider, g.domain->key(), g.domain->work_dir(), r);
    auto t0 = BenchClock::now();
    auto q = g.qga->Exec("/bin/true", {});
    double qs = SecondsSince(t0);
    if (!q.ok() || q->exit_code != 0) Die("qemu-ga exec", q.status());
    ours.push_back(c.overhead());
    theirs.push_back(qs);
    observe.push_back(c.observe);
    insert.push_back(c.insert);
    to_run.push_back(c.to_run);
    run.push_back(c.run);
    to_done.push_back(c.to_done);
    eject.push_back(c.eject);
    std::printf(
        "row 7 run %d: gitdisc cycle %s, payload run %s, overhead %s (observe %s, insert %s, "
        "apply→run %s, result→done %s, eject %s) | qemu-ga exec /bin/true %s\n",
        r + 1, Duration(c.total).c_str(), Duration(c.run).c_str(), Duration(c.overhead()).c_str(),
        Duration(c.observe).c_str(), Duration(c.insert).c_str(), Duration(c.to_run).c_str(),
        Duration(c.to_done).c_str(), Duration(c.eject).c_str(), Duration(qs).c_str());
    std::printf("  agent events after apply: %s\n", c.phases.c_str());
    std::fflush(stdout);
  }
  char ours_s[240], alt_s[120];
  std::snprintf(ours_s, sizeof ours_s,
                "%s per VM (observe %s, insert %s, apply→run %s, result→done %s, eject %s)",
                Duration(Median(ours)).c_str(), Duration(Median(observe)).c_str(),
                Duration(Median(insert)).c_str(), Duration(Median(to_run)).c_str(),
                Duration(Median(to_done)).c_str(), Duration(Median(eject)).c_str());
  std::snprintf(alt_s, sizeof alt_s, "qemu-ga guest-exec /bin/true + status polls: %s",
                Duration(Median(theirs)).c_str());
  PrintRow({.number = 7,
            .what = "per-VM overhead on a real guest (payload run time excluded)",
            .gitdisc = ours_s,
            .alternative = alt_s,
            .goal = "< 0.5 s",
            .met = Median(ours) < 0.5});
}

int Run(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  if (runs < 1) runs = 1;
  std::string guest_dir = argc > 2 && argv[2][0] != 0 ? argv[2] : GITDISC_BENCH_GUEST_DIR;
  if (!PathExists(guest_dir + "/initrd.img")) {
    Die("guest image",
        Status::NotFound(guest_dir + "/initrd.img (build the bench-guest-image target)"));
  }
  std::string rows = argc > 3 ? argv[3] : "347";
  std::string cmdline = ShOut("cat " + Quote(guest_dir + "/cmdline"));
  if (Status st = test_support::EnsureLibvirtd(); !st.ok()) Die("libvirtd", st);
  (void)test_support::ReapLeftoverTestDomains();

  const int kGuests = rows.find('3') != std::string::npos ? 3 : 1;
  std::string label = std::to_string(::getpid());
  std::vector<Guest> guests(kGuests);
  auto boot0 = BenchClock::now();
  for (int i = 0; i < kGuests; ++i) {
    test_support::TestDomainOptions o;
    o.name_hint = "bench" + std::to_string(i);
    o.memory_mib = 512;
    o.qemu_guest_agent_channel = true;
    o.labels = {{"gitdisc-bench", label}};
    o.kernel = guest_dir + "/vmlinuz";
    o.initrd = guest_dir + "/initrd.img";
    o.cmdline_extra = "quiet " + cmdline;
    auto d = test_support::TestDomain::Create(o);
    if (!d.ok()) Die("create domain", d.status());
    guests[i].domain = std::move(d).value();
  }
  for (Guest& g : guests) {
    Status up = g.domain->WaitForConsoleLine("gitdisc-agent: listening on", seconds(300));
    if (!up.ok()) Die("boot " + g.domain->name(), up);
    auto q = QgaClient::Open(g.domain->uri(), g.domain->name());
    if (!q.ok()) Die("qemu-ga", q.status());
    g.qga = std::move(q).value();
    if (Status st = g.qga->WaitReady(120); !st.ok()) Die("qemu-ga " + g.domain->name(), st);
  }
  std::printf("booted %d guests (agent + qemu-ga up) in %s\n", kGuests,
              Duration(SecondsSince(boot0)).c_str());
  std::fflush(stdout);
  auto provider = LibvirtProvider::Open({guests[0].domain->uri()});
  if (!provider.ok()) Die("libvirt provider", provider.status());

  std::string work = guests[0].domain->work_dir() + "/row3";
  if (Status st = MakeDirs(work); !st.ok()) Die("mkdir", st);
  if (rows.find('3') != std::string::npos) RowSharedImage(**provider, work, label, kGuests);
  // Rows 4 and 7 use the first guest; the others would only take CPU.
  guests.resize(1);
  if (rows.find('4') != std::string::npos) RowDelivery(**provider, guests[0], runs);
  if (rows.find('7') != std::string::npos) RowOverhead(**provider, guests[0], runs);
  return 0;
}

}  // namespace
}  // namespace gitdisc::bench

int main(int argc, char** argv) {
  // Errors unwind (BenchFailure), so the guests are destroyed on the way out.
  return gitdisc::bench::RunBench("guest_bench", [&] { return gitdisc::bench::Run(argc, argv); });
}
