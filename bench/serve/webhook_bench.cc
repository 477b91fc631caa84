// Benchmark (docs/benchmarks.md row 5): webhook received → first disc
// inserted, with the bundle already in the image cache.
//
// One real guest (the test guest, QEMU/TCG) labelled for this run, a local
// fleet repository whose `main` starts at C0, and PUSHES + CLI_PUSHES later
// commits prepared on a side branch, each changing the payload (so each push
// is an upgrade with a new bundle). Every commit's image is built into the
// daemon's cache beforehand (Source + AssembleDesired + EnsureImage, as the
// controller would), so the measurement is the reaction, not an ISO build.
//
//   gitdisc serve  the real binary (libvirt provider, generic webhook with a
//                  secret, poll interval 1h so only the webhook can trigger).
//                  Per push: move `main` to the next commit, then t0, POST
//                  /hooks/generic (signed, X-Delivery-Id), and t1 = the
//                  guest's first CD-ROM tray close after t0, from libvirt's
//                  event stream (QEMU closes the tray when the new medium is
//                  in). Then wait until /api/v1/status shows the VM Ready at
//                  that commit with its drive empty. p50/p99 of t1 - t0.
//   reconcile      what one would run from CI without the daemon: per push,
//                  spawn `gitdisc reconcile` (same repo, state dir and
//                  cache) and time spawn → first tray close, the same way.
//
// Usage: webhook_bench [PUSHES=50] [CLI_PUSHES=10]
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "bench/serve/tray_events.h"
#include "bench/support/bench_main.h"
#include "bench/support/bench_report.h"
#include "bench/support/fleet_repo.h"
#include "bench/support/source_and_cache.h"
#include "bench/support/shell.h"
#include "reconciler/bundle_builder.h"
#include "reconciler/desired.h"
#include "serve/webhooks.h"
#include "specs/git_library.h"
#include "specs/source.h"
#include "tests/support/test_domain.h"

namespace gitdisc::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Die("free port", Status::FromErrno("bind", errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// A child process with stdout+stderr appended to `log`; returns its pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) Die("fork", Status::FromErrno("fork", errno));
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The VM's entry of /api/v1/status, or null.
nlohmann::json VmStatus(httplib::Client& http, const std::string& key) {
  auto r = http.Get("/api/v1/status");
  if (!r || r->status != 200) return nullptr;
  try {
    auto j = nlohmann::json::parse(r->body);
    for (const auto& v : j.at("vms")) {
      if (v.at("key") == key) return v;
    }
  } catch (const nlohmann::json::exception&) {
  }
  return nullptr;
}

void WaitVmAt(httplib::Client& http, const std::string& key, const std::string& revision) {
  auto end = BenchClock::now() + seconds(180);
  nlohmann::json last;
  while (BenchClock::now() < end) {
    last = VmStatus(http, key);
    if (!last.is_null() && last["condition"] == "Ready" && last["revision"] == revision &&
        last["discInserted"] == "") {
      return;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  Die("wait for the VM", Status::Timeout("not Ready at " + revision + ": " + last.dump()));
}

int Run(int argc, char** argv) {
  int pushes = argc > 1 ? std::atoi(argv[1]) : 50;
  int cli_pushes = argc > 2 ? std::atoi(argv[2]) : 10;
  if (pushes < 2 || cli_pushes < 1)
    Die("usage", Status::Invalid("webhook_bench [PUSHES>=2] [CLI_PUSHES>=1]"));
  if (Status st = test_support::EnsureLibvirtd(); !st.ok()) Die("libvirtd", st);
  (void)test_support::ReapLeftoverTestDomains();
  std::string label = std::to_string(::getpid());

  test_support::TestDomainOptions o;
  o.name_hint = "webhook";
  o.labels = {{"gitdisc-bench", label}};
  o.kernel = std::string(GITDISC_GUEST_DIR) + "/vmlinuz";
  o.initrd = std::string(GITDISC_GUEST_DIR) + "/initrd.img";
  o.cmdline_extra = "quiet";
  auto domain = test_support::TestDomain::Create(o);
  if (!domain.ok()) Die("create domain", domain.status());
  auto& dom = **domain;
  auto tray = TrayEvents::Start(dom.uri(), dom.name());
  if (!tray.ok()) Die("tray events", tray.status());

  // The repository: C0 on main, the pushes prepared on `future`.
  std::string work = dom.work_dir() + "/webhook";
  std::string repo = work + "/repo", state = work + "/state";
  if (Status st = GitInit(repo); !st.ok()) Die("git init", st);
  BenchSet set{.name = "hook",
               .match_labels = "gitdisc-bench: \"" + label + "\"",
               .payloads = {{.name = "app", .path = "payloads/app", .timeout = "1m"}}};
  Status st = WriteTreeFile(repo, "sets/hook.yaml", PayloadSetYaml(set));
  if (st.ok()) st = WriteTreeFile(repo, "payloads/app/install.sh", "#!/bin/sh\ntrue\n", 0755);
  if (st.ok()) st = WriteTreeFile(repo, "payloads/app/version.txt", "0\n");
  if (!st.ok()) Die("write repo", st);
  auto c0 = GitCommitAll(repo, "C0");
  if (!c0.ok()) Die("commit", c0.status());
  if (Sh("git -C " + Quote(repo) + " checkout -q -b future") != 0)
    Die("git", Status::Internal("checkout"));
  std::vector<std::string> commits;
  for (int i = 1; i <= pushes + cli_pushes; ++i) {
    if (Status w = WriteTreeFile(repo, "payloads/app/version.txt", std::to_string(i) + "\n");
        !w.ok()) {
      Die("write", w);
    }
    auto c = GitCommitAll(repo, "push " + std::to_string(i));
    if (!c.ok()) Die("commit", c.status());
    commits.push_back(*c);
  }
  if (Sh("git -C " + Quote(repo) + " checkout -q main") != 0)
    Die("git", Status::Internal("checkout main"));

  // Every commit's image, built beforehand into the daemon's cache.
  {
    specs::GitLibrary git;
    SourceAndCache opened = OpenSourceAndCache(git, repo, state);
    VmInfo vm;
    vm.key = dom.key();
    vm.name = dom.name();
    vm.uuid = dom.uuid();
    vm.host = dom.uri();
    vm.state = VmInfo::kRunning;
    vm.labels = o.labels;
    vm.cdroms = {DriveInfo{}};
    vm.cdroms[0].target = "hdc";
    vm.has_agent_channel = true;
    std::vector<std::string> all = commits;
    all.insert(all.begin(), *c0);
    for (const std::string& sha : all) {
      auto snap = opened.source->Load(sha);
      if (!snap.ok()) Die("load", snap.status());
      auto desired = reconciler::AssembleDesired(**snap, {vm});
      if (!desired.ok()) Die("assemble", desired.status());
      for (const auto& [digest, payloads] : desired->bundles) {
        auto img = reconciler::EnsureImage(*opened.cache, *snap, digest, payloads, "bench-prebuild");
        if (!img.ok()) Die("prebuild", img.status());
        (void)opened.cache->Unpin(digest, "bench-prebuild");
      }
    }
  }
  std::printf("prepared %zu pushes, every image prebuilt\n", commits.size());

  // The daemon.
  std::string secret = "bench-secret-" + label;
  std::string secret_file = work + "/generic.secret";
  if (Status w = WriteFileAtomic(secret_file, secret + "\n", 0600); !w.ok()) Die("secret", w);
  int port = FreePort();
  std::string config = work + "/config.yaml";
  if (Status w = WriteFileAtomic(config, "source: {repo: " + repo +
                                             ", branch: main, interval: 1h}\n"
                                             "connections: [\"" +
                                             dom.uri() +
                                             "\"]\n"
                                             "stateDir: " +
                                             state +
                                             "\n"
                                             "listen: 127.0.0.1:" +
                                             std::to_string(port) +
                                             "\n"
                                             "webhooks:\n  generic: {secretFile: " +
                                             secret_file + "}\n");
      !w.ok()) {
    Die("config", w);
  }
  std::string log = work + "/serve.log";
  std::printf("gitdisc serve log: %s (removed at exit)\n", log.c_str());
  Status agent_up = dom.WaitForConsoleLine("gitdisc-agent: listening on", seconds(300));
  if (!agent_up.ok()) Die("boot", agent_up);
  pid_t serve = Spawn({GITDISC_BINARY, "serve", "--config", config}, log);
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(2);
  http.set_read_timeout(30);
  std::vector<double> hook;
  try {
    auto ready_end = BenchClock::now() + seconds(120);
    for (;;) {
      auto r = http.Get("/readyz");
      if (r && r->status == 200) break;
      if (BenchClock::now() > ready_end) Die("serve", Status::Timeout("not ready; see " + log));
      std::this_thread::sleep_for(milliseconds(100));
    }
    WaitVmAt(http, dom.key(), *c0);

    for (int i = 0; i < pushes; ++i) {
      if (Sh("git -C " + Quote(repo) + " update-ref refs/heads/main " + commits[i]) != 0) {
        Die("git", Status::Internal("update-ref"));
      }
      std::string body = R"({"ref":"refs/heads/main"})";
      httplib::Headers h = {{"X-Signature", serve::SignatureHeaderValue(secret, body)},
                            {"X-Delivery-Id", "bench-" + label + "-" + std::to_string(i)}};
      auto t0 = BenchClock::now();
      auto r = http.Post("/hooks/generic", h, body, "application/json");
      if (!r || r->status != 202) {
        Die("webhook", Status::Internal("answer " + (r ? std::to_string(r->status) + " " + r->body
                                                       : std::string("none"))));
      }
      auto t1 = (*tray)->FirstCloseAfter(t0, t0 + seconds(60));
      if (!t1) Die("webhook", Status::Timeout("no disc inserted within 60 s; see " + log));
      double s = std::chrono::duration<double>(*t1 - t0).count();
      hook.push_back(s);
      WaitVmAt(http, dom.key(), commits[i]);
      std::printf("push %2d: webhook → disc inserted %s (tray: %s)\n", i + 1, Duration(s).c_str(),
                  (*tray)->Describe(t0).c_str());
      std::fflush(stdout);
    }
  } catch (...) {
    ::kill(serve, SIGTERM);
    Wait(serve);
    throw;
  }
  ::kill(serve, SIGTERM);
  int serve_rc = Wait(serve);

  std::vector<double> cli;
  for (int j = 0; j < cli_pushes; ++j) {
    const std::string& sha = commits[pushes + j];
    if (Sh("git -C " + Quote(repo) + " update-ref refs/heads/main " + sha) != 0) {
      Die("git", Status::Internal("update-ref"));
    }
    auto t0 = BenchClock::now();
    pid_t p = Spawn(
        {GITDISC_BINARY, "reconcile", "--repo", repo, "--state-dir", state, "--connect", dom.uri()},
        work + "/reconcile.log");
    auto t1 = (*tray)->FirstCloseAfter(t0, t0 + seconds(60));
    int rc = Wait(p);
    if (!t1 || rc != 0) {
      Die("reconcile", Status::Internal("exit " + std::to_string(rc) + ", inserted: " +
                                        (t1 ? "yes" : "no") + "; see " + work + "/reconcile.log"));
    }
    double s = std::chrono::duration<double>(*t1 - t0).count();
    cli.push_back(s);
    std::printf("push %2d: gitdisc reconcile spawned → disc inserted %s\n", pushes + j + 1,
                Duration(s).c_str());
    std::fflush(stdout);
  }

  double p50 = Percentile(hook, 50), p99 = Percentile(hook, 99);
  std::printf(
      "gitdisc serve, %d pushes: webhook → first disc inserted p50 %s, p99 %s (min %s, max %s); "
      "serve exited %d\n",
      pushes, Duration(p50).c_str(), Duration(p99).c_str(),
      Duration(*std::min_element(hook.begin(), hook.end())).c_str(),
      Duration(*std::max_element(hook.begin(), hook.end())).c_str(), serve_rc);
  std::printf("gitdisc reconcile per push, %d pushes: p50 %s\n", cli_pushes,
              Duration(Percentile(cli, 50)).c_str());
  char ours[160], alt[160];
  std::snprintf(ours, sizeof ours, "serve, real guest: p50 %s, p99 %s over %d pushes",
                Duration(p50).c_str(), Duration(p99).c_str(), pushes);
  std::snprintf(alt, sizeof alt, "`gitdisc reconcile` spawned per push: p50 %s over %d",
                Duration(Percentile(cli, 50)).c_str(), cli_pushes);
  PrintRow({.number = 5,
            .what = "webhook received -> first disc inserted, bundle cached",
            .gitdisc = ours,
            .alternative = alt,
            .goal = "p50 < 150 ms",
            .met = p50 < 0.150});
  return 0;
}

}  // namespace
}  // namespace gitdisc::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Errors unwind (BenchFailure), so the guests are destroyed on the way out.
  return gitdisc::bench::RunBench("webhook_bench", [&] { return gitdisc::bench::Run(argc, argv); });
}
