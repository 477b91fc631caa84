// The controller end to end in one process: a real Git repository made with
// `git`, the real ISO writer and cache, FakeProvider for libvirt, and the REAL
// agent (guest/agent.h) on the other end of each VM's channel, reading the
// disc image that the fake drive holds.
#include "reconciler/controller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "base/file_util.h"
#include "guest/agent.h"
#include "tests/support/fake_fleet.h"

namespace gitdisc::reconciler {
namespace {

std::string Sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[256];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) {
    EXPECT_EQ(::pclose(p), 0) << cmd;
  }
  return out;
}

void Write(const std::string& path, const std::string& data, int mode = 0644) {
  ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))).ok());
  ASSERT_TRUE(WriteFileAtomic(path, data, mode).ok());
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gitdisc-ctl-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    repo_ = dir_ + "/repo";
    log_ = dir_ + "/applied.log";
    Write(repo_ + "/web.yaml", R"(apiVersion: gitdisc/v1
kind: PayloadSet
metadata: {name: web}
spec:
  selector: {matchLabels: {role: web}}
  payloads:
    - {name: motd, version: "1", path: payloads/motd, run: ["./install.sh"], timeout: 1m}
  rollout: {maxParallel: 1, canary: 1, maxFailures: 0}
)");
    WriteDbSet("1m");
    Script("motd", "1", 0);
    Script("pg", "1", 0);
    Sh("cd " + repo_ +
       " && git init -q -b main && git add -A && git -c user.name=t -c "
       "user.email=t@t commit -q -m init");

    fleet_ = std::make_unique<testing::FakeFleet>(
        testing::FakeFleet::Options{.state_dir = dir_ + "/agent"});
    provider_ = &fleet_->provider();
    web1_ = provider_->AddVm({.name = "web-1", .labels = {{"role", "web"}}});
    web2_ = provider_->AddVm({.name = "web-2", .labels = {{"role", "web"}}});
    db1_ = provider_->AddVm({.name = "db-1", .labels = {{"role", "db"}}});
    other_ = provider_->AddVm({.name = "other", .labels = {{"role", "none"}}});
    OpenController();
  }

  void TearDown() override {
    controller_.reset();
    fleet_.reset();
    (void)RemoveAll(dir_);
  }

  // pg waits for the returned file to exist before it finishes (an apply
  // that takes as long as the test wants).
  std::string GatePg() {
    std::string gate = dir_ + "/let-pg-finish";
    Write(repo_ + "/payloads/pg/install.sh",
          "#!/bin/sh\nwhile [ ! -e " + gate + " ]; do sleep 0.05; done\necho \"pg v1\" >> " + log_ +
              "\n",
          0755);
    return gate;
  }

  // The set `db`: VMs labelled role=db get the payload pg with this timeout.
  void WriteDbSet(const std::string& timeout) {
    Write(repo_ + "/db.yaml", R"(apiVersion: gitdisc/v1
kind: PayloadSet
metadata: {name: db}
spec:
  selector: {matchLabels: {role: db}}
  payloads:
    - {name: pg, version: "1", path: payloads/pg, run: ["./install.sh"], timeout: )" +
                                  timeout + R"(}
  rollout: {maxParallel: 1, maxFailures: 0}
)");
  }

  void Script(const std::string& name, const std::string& version, int exit_code) {
    Write(repo_ + "/payloads/" + name + "/install.sh",
          "#!/bin/sh\necho \"" + name + " v" + version + "\" >> " + log_ + "\nexit " +
              std::to_string(exit_code) + "\n",
          0755);
  }
  void Commit(const std::string& msg) {
    Sh("cd " + repo_ + " && git add -A && git -c user.name=t -c user.email=t@t commit -q -m '" +
       msg + "'");
  }

  void OpenController() {
    controller_.reset();
    specs::SourceOptions so;
    so.repo = repo_;
    so.state_dir = dir_ + "/state";
    so.verify = verify_;
    auto src = specs::Source::Open(git_, so);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    source_ = std::move(src).value();
    iso::IsoCacheOptions co;
    co.dir = dir_ + "/state/isos";
    co.max_bytes = cache_max_bytes_;
    auto cache = iso::IsoCache::Open(co);
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    cache_ = std::move(cache).value();
    ControllerOptions opts;
    opts.agent.request_timeout = std::chrono::milliseconds(2000);
    opts.exec.eject_retry_delay = std::chrono::milliseconds(10);
    opts.idle_poll = std::chrono::milliseconds(10);
    opts.hooks = hooks_;
    if (tweak_) tweak_(opts);
    opts.progress = [this](const std::string& vm, const std::string& step, const std::string&) {
      std::lock_guard<std::mutex> l(mu_);
      steps_.push_back(vm + ":" + step);
    };
    controller_ =
        std::make_unique<Controller>(provider_, source_.get(), cache_.get(), &clock_, opts);
  }

  Result<PassResult> Converge() {
    return controller_->RunUntilConverged(std::chrono::steady_clock::now() +
                                          std::chrono::minutes(5));
  }

  // Commits a pg payload whose install.sh fails until its try number
  // `ok_from` (each try appends a line to the returned file), with db's
  // rollout allowed one failure so that the set is not halted.
  std::string FailPgUntilTry(int ok_from) {
    std::string tries = dir_ + "/pg-tries";
    Write(repo_ + "/payloads/pg/install.sh",
          "#!/bin/sh\necho try >> " + tries + "\n[ $(wc -l < " + tries + ") -ge " +
              std::to_string(ok_from) + " ] || exit 1\necho \"pg v1\" >> " + log_ + "\n",
          0755);
    std::string db = ReadFile(repo_ + "/db.yaml").value();
    db.replace(db.find("maxFailures: 0"), 14, "maxFailures: 1");
    Write(repo_ + "/db.yaml", db);
    Commit("pg fails until try " + std::to_string(ok_from));
    return tries;
  }

  int Count(const std::string& what) {
    int n = 0;
    for (const std::string& c : provider_->calls()) n += c.rfind(what, 0) == 0;
    return n;
  }
  int LogLines(const std::string& line) {
    auto text = ReadFile(log_);
    if (!text.ok()) return 0;
    int n = 0;
    size_t pos = 0;
    while ((pos = text->find(line + "\n", pos)) != std::string::npos) {
      ++n;
      pos += line.size();
    }
    return n;
  }
  void ExpectAllDrivesEmpty() {
    for (const std::string& k : {web1_, web2_, db1_, other_}) {
      auto vm = provider_->Peek(k);
      ASSERT_TRUE(vm.ok());
      for (const DriveInfo& d : vm->cdroms) EXPECT_EQ(d.source, "") << k;
    }
  }

  std::string dir_, repo_, log_;
  std::string web1_, web2_, db1_, other_;
  specs::GitLibrary git_;
  SystemClock clock_;
  std::unique_ptr<testing::FakeFleet> fleet_;
  FakeProvider* provider_ = nullptr;
  std::unique_ptr<specs::Source> source_;
  std::unique_ptr<iso::IsoCache> cache_;
  std::unique_ptr<Controller> controller_;
  std::mutex mu_;
  std::vector<std::string> steps_;
  ControllerHooks hooks_;
  std::function<void(ControllerOptions&)> tweak_;
  specs::VerifyOptions verify_;
  uint64_t cache_max_bytes_ = 0;
};

// Waits for `done` (checked every 20 ms) up to a generous deadline: tests
// wait on conditions, never on time.
bool WaitFor(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string Describe(const FleetStatus& st) {
  std::string out;
  for (const VmStatus& v : st.vms) {
    out += "\n  " + v.name + ": " + VmConditionName(v.condition) + " " + v.reason + " " + v.message;
  }
  for (const auto& e : st.events) out += "\n  event " + e.object + " " + e.reason + " " + e.message;
  return out;
}

// A copy: Status() returns a fresh FleetStatus each time.
std::optional<VmStatus> FindVm(const FleetStatus& st, const std::string& key) {
  for (const VmStatus& v : st.vms) {
    if (v.key == key) return v;
  }
  return std::nullopt;
}

TEST_F(ControllerTest, DiffPlansThenReconcileConvergesAndEjectsEverything) {
  auto dry = controller_->RunPass(/*execute=*/false);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  EXPECT_FALSE(dry->plan.InSync());
  EXPECT_EQ(dry->plan.Find(web1_)->kind, PlanKind::kInstall);
  EXPECT_EQ(dry->plan.Find(web2_)->reason, "CanaryPending");
  EXPECT_EQ(dry->plan.Find(db1_)->kind, PlanKind::kInstall);
  EXPECT_EQ(dry->plan.Find(other_)->kind, PlanKind::kSkip);
  EXPECT_EQ(Count("InsertMedia"), 0) << "a dry run changes nothing";
  // web-1 and web-2 desire the same bundle: one image for both.
  EXPECT_EQ(dry->plan.Find(web1_)->bundle_digest, dry->plan.Find(web2_)->bundle_digest);
  EXPECT_EQ(dry->desired.bundles.size(), 2u);

  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged);
  EXPECT_EQ(LogLines("motd v1"), 2);
  EXPECT_EQ(LogLines("pg v1"), 1);
  EXPECT_EQ(Count("InsertMedia"), 3);
  ExpectAllDrivesEmpty();
  // The VM outside every selector: listed, never touched.
  for (const std::string& c : provider_->calls()) {
    if (c.find(other_) == std::string::npos) continue;
    EXPECT_EQ(c.rfind("GetVm", 0), 0u) << c;
  }
  // Two distinct bundles → two images in the cache.
  int isos = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/state/isos")) {
    isos += e.path().extension() == ".iso";
  }
  EXPECT_EQ(isos, 2);
  FleetStatus st = controller_->Status();
  EXPECT_TRUE(st.Converged());

  // A second run inserts nothing.
  provider_->ClearCalls();
  auto again = Converge();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->converged);
  EXPECT_EQ(Count("InsertMedia"), 0);
  EXPECT_EQ(LogLines("motd v1"), 2);
}

TEST_F(ControllerTest, NewCommitReappliesOnlyTheChangedPayloadWhereSelected) {
  ASSERT_TRUE(Converge().ok());
  Script("pg", "2", 0);
  Commit("bump pg");
  controller_->NotifySourceChanged("test");
  provider_->ClearCalls();
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged);
  EXPECT_EQ(LogLines("pg v2"), 1);
  EXPECT_EQ(LogLines("motd v1"), 2) << "motd is not re-applied";
  EXPECT_EQ(Count("InsertMedia"), 1);
  ExpectAllDrivesEmpty();
}

TEST_F(ControllerTest, ReconcileAtAnOlderRevisionAppliesThatRevisionNotTheTip) {
  std::string first = Sh("cd " + repo_ + " && git rev-parse --short HEAD");
  first.pop_back();  // newline
  Script("pg", "2", 0);
  Commit("bump pg");
  auto pass = controller_->RunUntilConverged(
      std::chrono::steady_clock::now() + std::chrono::minutes(5), first);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged);
  EXPECT_EQ(pass->plan.revision.rfind(first, 0), 0u) << pass->plan.revision;
  EXPECT_EQ(LogLines("pg v1"), 1);
  EXPECT_EQ(LogLines("pg v2"), 0) << "the tip is not what was asked for";

  // The tip, afterwards, is an upgrade of pg only.
  auto tip = Converge();
  ASSERT_TRUE(tip.ok()) << tip.status().ToString();
  EXPECT_EQ(LogLines("pg v2"), 1);
  EXPECT_EQ(LogLines("motd v1"), 2);

  auto unknown = controller_->RunUntilConverged(
      std::chrono::steady_clock::now() + std::chrono::minutes(1), "no-such-rev");
  EXPECT_FALSE(unknown.ok()) << "an unknown --rev is an error, not the tip";
}

TEST_F(ControllerTest, HooksSeeEveryExecutingPassAndTheFirstInsertAfterATrigger) {
  struct Insert {
    std::string vm, revision, trigger;
    double seconds;
  };
  std::mutex hm;
  std::vector<double> passes;
  std::vector<Insert> inserts;
  hooks_.pass_finished = [&](double s) {
    std::lock_guard<std::mutex> l(hm);
    passes.push_back(s);
  };
  hooks_.first_insert = [&](const std::string& vm, const std::string& rev, const std::string& why,
                            double s) {
    std::lock_guard<std::mutex> l(hm);
    inserts.push_back({vm, rev, why, s});
  };
  OpenController();

  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  EXPECT_TRUE(passes.empty()) << "a dry run (diff, /api/v1/plan) is not a reconcile";
  ASSERT_TRUE(Converge().ok());
  EXPECT_FALSE(passes.empty());
  for (double s : passes) EXPECT_GE(s, 0);
  EXPECT_TRUE(inserts.empty()) << "the first rollout had no trigger to measure from";

  // A webhook finds a new revision: its first insert is timed, once.
  Script("pg", "2", 0);
  Commit("bump pg");
  std::string head = Sh("cd " + repo_ + " && git rev-parse HEAD");
  head.pop_back();
  controller_->NotifySourceChanged("webhook github");
  controller_->NotifySourceChanged("poll");  // a second trigger before the pass: the first counts
  ASSERT_TRUE(Converge().ok());
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_EQ(inserts[0].vm, "db-1");
  EXPECT_EQ(inserts[0].revision, head);
  EXPECT_EQ(inserts[0].trigger, "webhook github");
  EXPECT_GE(inserts[0].seconds, 0);
  bool event = false;
  for (const auto& e : controller_->Status().events) event |= e.reason == "FirstInsert";
  EXPECT_TRUE(event);

  // A poll that finds nothing new times nothing, even when a disc goes in later.
  controller_->NotifySourceChanged("poll");
  ASSERT_TRUE(Converge().ok());
  ASSERT_TRUE(provider_->SetLabels(other_, {{"role", "db"}}, {}).ok());
  ASSERT_TRUE(Converge().ok());
  EXPECT_EQ(LogLines("pg v2"), 2) << "the relabelled VM got pg";
  EXPECT_EQ(inserts.size(), 1u);
}

TEST_F(ControllerTest, FailingPayloadMarksTheVmFailedAndHaltsTheSet) {
  Script("motd", "1", 3);
  Commit("break motd");
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_FALSE(pass->converged);
  EXPECT_TRUE(pass->stuck);
  EXPECT_EQ(pass->plan.Find(web1_)->condition, VmCondition::kFailed);
  EXPECT_EQ(pass->plan.Find(web2_)->condition, VmCondition::kHalted);
  EXPECT_EQ(pass->plan.Find(db1_)->condition, VmCondition::kReady);
  EXPECT_EQ(LogLines("motd v1"), 1) << "the canary ran, the rest did not";
  ExpectAllDrivesEmpty();
  FleetStatus st = controller_->Status();
  bool halted = false;
  for (const SetStatus& s : st.sets)
    halted |= s.name == "web" && s.rollout == RolloutState::kHalted;
  EXPECT_TRUE(halted);
}

TEST_F(ControllerTest, ForeignMediaIsLeftAloneAsDriveBusy) {
  provider_->SetDriveSource(db1_, "hdc", "/srv/foreign.iso");
  auto pass = Converge();
  ASSERT_TRUE(pass.ok());
  EXPECT_FALSE(pass->converged);
  EXPECT_EQ(pass->plan.Find(db1_)->condition, VmCondition::kDriveBusy);
  auto vm = provider_->Peek(db1_);
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->cdroms[0].source, "/srv/foreign.iso");
  EXPECT_EQ(Count("EjectMedia " + db1_), 0);
  EXPECT_EQ(LogLines("pg v1"), 0);
}

TEST_F(ControllerTest, RestartWithOurDiscInsertedCarriesOnWithoutApplyingTwice) {
  // Simulate a controller that inserted web-1's disc and applied, then died
  // before the eject: run one pass, then put the disc back as if never ejected.
  ASSERT_TRUE(Converge().ok());
  std::string bundle = controller_->Status().vms[0].bundle_digest;
  for (const VmStatus& v : controller_->Status().vms) {
    if (v.key == db1_) bundle = v.bundle_digest;
  }
  provider_->SetDriveSource(db1_, "hdc", cache_->PathFor(bundle));
  OpenController();  // a fresh controller: nothing in memory
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged);
  EXPECT_EQ(LogLines("pg v1"), 1) << "applied exactly once";
  ExpectAllDrivesEmpty();
}

TEST_F(ControllerTest, ReconcileDoesNotWaitForAShutOffVm) {
  provider_->SetPowerState(db1_, VmInfo::kShutoff);
  auto start = std::chrono::steady_clock::now();
  auto pass = controller_->RunUntilConverged(start + std::chrono::minutes(5));
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_FALSE(pass->converged);
  EXPECT_TRUE(pass->stuck) << "nothing moves until someone starts the VM";
  EXPECT_EQ(pass->plan.Find(db1_)->reason, "NotRunning");
  EXPECT_EQ(LogLines("motd v1"), 2) << "the running VMs converged first";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(2));
}

// NotManageable: a selected VM whose domain has no agent channel is reported
// at once; reconcile does not wait for an agent that cannot exist.
TEST_F(ControllerTest, ReconcileDoesNotWaitForAVmWithoutChannel) {
  std::string bare = provider_->AddVm(
      {.name = "web-bare", .labels = {{"role", "web"}}, .agent_channel = false});
  auto start = std::chrono::steady_clock::now();
  auto pass = controller_->RunUntilConverged(start + std::chrono::minutes(5));
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_FALSE(pass->converged);
  EXPECT_TRUE(pass->stuck);
  const VmPlan* p = pass->plan.Find(bare);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->condition, VmCondition::kNotManageable);
  EXPECT_EQ(p->reason, "NoAgentChannel");
  EXPECT_EQ(LogLines("motd v1"), 2) << "the manageable VMs converged";
  EXPECT_EQ(Count("OpenAgentChannel " + bare), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(2));
  auto st = FindVm(controller_->Status(), bare);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->condition, VmCondition::kNotManageable);
}

// The cache bound during a rollout: with a bound smaller than one image,
// every build evicts every other image no VM has inserted — never the one
// in db-1's drive while its apply runs, and never one a worker is about to
// insert.
TEST_F(ControllerTest, ASmallCacheBoundNeverEvictsAnInsertedImage) {
  std::string gate = GatePg();
  // Its apply spans the whole second rollout: give it time on a loaded machine.
  WriteDbSet("10m");
  Commit("pg waits for the test");
  cache_max_bytes_ = 1;
  tweak_ = [](ControllerOptions& o) {
    o.backoff_base = std::chrono::hours(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  controller_->Start();
  std::string db_disc;
  ASSERT_TRUE(WaitFor([&] {
    auto vm = provider_->Peek(db1_);
    db_disc = vm.ok() && !vm->cdroms.empty() ? vm->cdroms[0].source : "";
    return !db_disc.empty() && LogLines("motd v1") == 2;
  })) << Describe(controller_->Status());
  // A new revision while db-1 still applies: the web VMs get a new bundle.
  Script("motd", "2", 0);
  Commit("motd v2");
  controller_->NotifySourceChanged("test");
  ASSERT_TRUE(WaitFor([&] { return LogLines("motd v2") == 2; })) << Describe(controller_->Status());
  EXPECT_GE(cache_->evictions(), 1u) << "the v1 web bundle goes once no drive holds it";
  EXPECT_TRUE(PathExists(db_disc)) << "db-1's inserted image was evicted";
  EXPECT_EQ(provider_->Peek(db1_)->cdroms[0].source, db_disc);
  auto pins = cache_->ListPins();
  ASSERT_TRUE(pins.ok());
  for (const auto& [digest, owners] : *pins) {
    EXPECT_TRUE(cache_->Contains(digest)) << "pinned image " << digest << " is gone";
  }
  ASSERT_TRUE(WriteFileAtomic(gate, "", 0644).ok());
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready() && controller_->Status().Converged(); }))
      << Describe(controller_->Status());
  controller_->Stop();
  EXPECT_EQ(LogLines("pg v1"), 1);
  ExpectAllDrivesEmpty();
  EXPECT_TRUE(cache_->ListPins()->empty());
}

TEST_F(ControllerTest, NoPinOutlivesItsDiscAfterACrash) {
  ASSERT_TRUE(Converge().ok());
  std::string bundle;
  for (const VmStatus& v : controller_->Status().vms) {
    if (v.key == db1_) bundle = v.bundle_digest;
  }
  ASSERT_FALSE(bundle.empty());
  auto pinned_for = [&](const std::string& key) {
    auto pins = cache_->ListPins();
    EXPECT_TRUE(pins.ok());
    auto it = pins->find(bundle);
    return it != pins->end() && std::count(it->second.begin(), it->second.end(), key) > 0;
  };
  // Killed after the insert: the disc is in, the pin is held, the work done.
  ASSERT_TRUE(cache_->Pin(bundle, db1_).ok());
  provider_->SetDriveSource(db1_, "hdc", cache_->PathFor(bundle));
  OpenController();
  ASSERT_TRUE(Converge().ok());
  ExpectAllDrivesEmpty();
  EXPECT_FALSE(pinned_for(db1_)) << "the leftover disc was ejected: its pin must go too";

  // Killed between the eject and the unpin: no disc, only the pin.
  ASSERT_TRUE(cache_->Pin(bundle, db1_).ok());
  OpenController();
  ASSERT_TRUE(Converge().ok());
  EXPECT_FALSE(pinned_for(db1_));

  // A VM whose agent does not answer keeps its pin (it may still read the disc).
  ASSERT_TRUE(cache_->Pin(bundle, db1_).ok());
  provider_->SetDriveSource(db1_, "hdc", cache_->PathFor(bundle));
  provider_->FailNext(FakeProvider::Op::kOpenAgentChannel, db1_, Status::Unavailable("agent down"),
                      100);
  OpenController();
  ASSERT_TRUE(controller_->RunPass(/*execute=*/true).ok());
  EXPECT_TRUE(pinned_for(db1_));
}

// The daemon's work queue: a VM whose apply takes long is held by its own
// worker while the others are planned and worked on, and a VM the rollout
// lets through next is queued by the worker that finished, without waiting
// for a timer (both timers here are an hour).
TEST_F(ControllerTest, ASlowApplyDoesNotHoldBackTheOtherVmsInTheDaemon) {
  std::string gate = GatePg();
  Commit("pg waits for the test");
  tweak_ = [](ControllerOptions& o) {
    o.backoff_base = std::chrono::hours(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  controller_->Start();

  // web-1 (the canary), then web-2, while db-1's apply is still running.
  ASSERT_TRUE(WaitFor([&] { return LogLines("motd v1") == 2; })) << Describe(controller_->Status());
  EXPECT_EQ(LogLines("pg v1"), 0);
  ASSERT_TRUE(WaitFor([&] {
    auto db = FindVm(controller_->Status(), db1_);
    auto web2 = FindVm(controller_->Status(), web2_);
    return db && web2 && db->condition == VmCondition::kProgressing &&
           web2->condition == VmCondition::kReady;
  }));
  EXPECT_FALSE(FindVm(controller_->Status(), db1_)->operation_id.empty());

  // A VM that appears now is found by its event and served at once.
  std::string web3 = provider_->AddVm({.name = "web-3", .labels = {{"role", "web"}}});
  provider_->EmitEvent(web3, EventKind::kLifecycle);
  ASSERT_TRUE(WaitFor([&] { return LogLines("motd v1") == 3; }));
  EXPECT_EQ(LogLines("pg v1"), 0) << "db-1 is still applying";

  ASSERT_TRUE(WriteFileAtomic(gate, "", 0644).ok());
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready() && controller_->Status().Converged(); }));
  controller_->Stop();
  EXPECT_EQ(LogLines("pg v1"), 1);
  EXPECT_EQ(LogLines("motd v1"), 3);
  ExpectAllDrivesEmpty();
}

// An event for a VM the controller knows reconciles that key alone: no
// listing of the fleet, no observation of the other VMs.
TEST_F(ControllerTest, AnEventForAKnownVmReconcilesOnlyThatKey) {
  provider_->SetPowerState(db1_, VmInfo::kShutoff);
  tweak_ = [](ControllerOptions& o) {
    o.backoff_base = std::chrono::hours(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  controller_->Start();
  ASSERT_TRUE(WaitFor([&] {
    auto db = FindVm(controller_->Status(), db1_);
    return LogLines("motd v1") == 2 && db && db->reason == "NotRunning" &&
           FindVm(controller_->Status(), web2_)->condition == VmCondition::kReady;
  })) << Describe(controller_->Status());
  provider_->ClearCalls();
  provider_->SetPowerState(db1_, VmInfo::kRunning);
  provider_->EmitEvent(db1_, EventKind::kLifecycle);
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready() && controller_->Status().Converged(); }));
  controller_->Stop();
  EXPECT_EQ(LogLines("pg v1"), 1);
  EXPECT_EQ(Count("ListVms"), 0) << "one key, not a scan";
  for (const std::string& c : provider_->calls()) {
    // Images are prepared per host; Watch is the controller's Stop.
    if (c.rfind("PrepareImage", 0) == 0 || c == "Watch") continue;
    EXPECT_NE(c.find(db1_), std::string::npos)
        << "only db-1 was looked at: " << c << " (db-1 " << db1_ << ")";
  }
  ExpectAllDrivesEmpty();
}

// Reconcile(key) on its own: nothing before the first scan, nothing for a
// VM that is gone, and "look again later" for an agent that does not answer.
TEST_F(ControllerTest, ReconcileOfOneKeyReportsWhenToLookAgain) {
  auto before = controller_->Reconcile(db1_);
  EXPECT_TRUE(before.status.ok());
  EXPECT_FALSE(before.executed) << "no scan yet: no desired state to act on";
  EXPECT_EQ(Count("InsertMedia"), 0);

  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  provider_->FailNext(FakeProvider::Op::kOpenAgentChannel, db1_, Status::Unavailable("agent down"),
                      100);
  ASSERT_TRUE(controller_->RunPass(/*execute=*/true).ok());  // db-1: AgentUnavailable
  auto unreachable = controller_->Reconcile(db1_);
  EXPECT_FALSE(unreachable.executed);
  ASSERT_TRUE(unreachable.requeue_after.has_value());
  EXPECT_GT(*unreachable.requeue_after, std::chrono::milliseconds(0));

  provider_->RemoveVm(web2_);
  auto gone = controller_->Reconcile(web2_);
  EXPECT_TRUE(gone.status.ok());
  EXPECT_FALSE(gone.executed);
  EXPECT_FALSE(gone.requeue_after.has_value());
}

// The daemon (retry_failed, as `gitdisc serve` sets it) retries a failed
// apply by itself after its backoff, under a new operation id.
TEST_F(ControllerTest, TheDaemonRetriesAFailedApplyAfterItsBackoff) {
  std::string tries = FailPgUntilTry(2);
  tweak_ = [](ControllerOptions& o) {
    o.retry_failed = true;
    o.backoff_base = std::chrono::seconds(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  controller_->Start();
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready() && controller_->Status().Converged(); }))
      << Describe(controller_->Status());
  controller_->Stop();
  EXPECT_EQ(LogLines("pg v1"), 1);
  auto lines = ReadFile(tries);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(*lines, "try\ntry\n") << "one failure, one retry";
  int failed = 0, succeeded = 0;
  for (const Event& e : controller_->Status().events) {
    if (e.object != "vm/db-1") continue;
    failed += e.reason == "ApplyFailed";
    succeeded += e.reason == "ApplySucceeded";
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(succeeded, 1);
  ExpectAllDrivesEmpty();
}

// `reconcile` without --retry-failed: a failure of its own run is final (it
// ends instead of waiting out its deadline), a failure from an earlier run
// is retried once by the next run.
TEST_F(ControllerTest, AReconcileRetriesAnEarlierFailureOnceAndReportsItsOwn) {
  std::string tries = FailPgUntilTry(3);
  auto count_tries = [&] {
    auto text = ReadFile(tries);
    return text.ok() ? std::count(text->begin(), text->end(), '\n') : 0;
  };
  tweak_ = [](ControllerOptions& o) { o.retry_earlier_failures = true; };
  for (int run = 1; run <= 2; ++run) {
    OpenController();
    auto pass = Converge();
    ASSERT_TRUE(pass.ok()) << pass.status().ToString();
    EXPECT_TRUE(pass->stuck) << "run " << run << " reports the failure instead of waiting";
    EXPECT_FALSE(pass->converged);
    EXPECT_EQ(count_tries(), run) << "one try per run";
    auto vm = FindVm(controller_->Status(), db1_);
    ASSERT_TRUE(vm.has_value());
    EXPECT_EQ(vm->condition, VmCondition::kFailed);
  }
  // `status` (no retries planned) reports the failure as it is.
  tweak_ = nullptr;
  OpenController();
  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  auto failed = FindVm(controller_->Status(), db1_);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->condition, VmCondition::kFailed);
  tweak_ = [](ControllerOptions& o) { o.retry_earlier_failures = true; };
  OpenController();
  auto third = Converge();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->converged) << Describe(controller_->Status());
  EXPECT_EQ(count_tries(), 3);
  EXPECT_EQ(LogLines("pg v1"), 1);
}

// `reconcile --retry-failed` waits for the retry after the backoff instead
// of calling a VM in backoff stuck (a guest whose agent died mid-apply).
TEST_F(ControllerTest, AReconcileWithRetryFailedWaitsForTheRetry) {
  std::string tries = FailPgUntilTry(2);
  tweak_ = [](ControllerOptions& o) {
    o.retry_failed = true;
    o.backoff_base = std::chrono::seconds(1);
    o.backoff_max = std::chrono::seconds(2);
  };
  OpenController();
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged) << Describe(controller_->Status());
  EXPECT_EQ(ReadFile(tries).value(), "try\ntry\n");
  EXPECT_EQ(LogLines("pg v1"), 1);
}

// Workers that need the same bundle at once build it once: the others wait
// for that build and reuse the image.
TEST_F(ControllerTest, VmsWorkedOnAtOnceShareOneBuildOfTheirBundle) {
  std::string web = ReadFile(repo_ + "/web.yaml").value();
  web.replace(web.find("{maxParallel: 1, canary: 1, maxFailures: 0}"), 43,
              "{maxParallel: \"100%\", maxFailures: 0}");
  Write(repo_ + "/web.yaml", web);
  Commit("web: all at once");
  for (const char* name : {"web-3", "web-4", "web-5"}) {
    provider_->AddVm({.name = name, .labels = {{"role", "web"}}});
  }
  auto pass = controller_->RunPass(/*execute=*/true);
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->executed, 6) << "five web VMs and db-1 in one pass";
  EXPECT_EQ(LogLines("motd v1"), 5);
  EXPECT_EQ(controller_->Status().counters.iso_builds_total, 2u) << "one build per bundle";
}

// `gitdisc status` and reconcile's final table are a fresh controller's dry
// scan: it writes the status (a dry plan at another revision does not).
TEST_F(ControllerTest, ADryScanWritesTheStatusThatStatusPrints) {
  ASSERT_TRUE(Converge().ok());
  std::string first = Sh("cd " + repo_ + " && git rev-parse HEAD");
  first.pop_back();
  OpenController();
  provider_->ClearCalls();
  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  FleetStatus st = controller_->Status();
  EXPECT_TRUE(controller_->Ready());
  ASSERT_EQ(st.vms.size(), 4u);
  EXPECT_TRUE(st.Converged()) << Describe(st);
  auto db = FindVm(st, db1_);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(db->condition, VmCondition::kReady);
  EXPECT_EQ(db->power, "running");

  Script("pg", "2", 0);
  Commit("bump pg");
  ASSERT_TRUE(controller_->RunPass(/*execute=*/false, first).ok());
  EXPECT_EQ(FindVm(controller_->Status(), db1_)->revision, first)
      << "a plan at an explicit revision leaves the status alone";
  EXPECT_EQ(Count("InsertMedia"), 0);
}

TEST_F(ControllerTest, AnUnsignedCommitIsNeverAppliedAndIsReportedAsSignatureUnverified) {
  // Alice's SSH key signs; the fleet trusts only her.
  Sh("ssh-keygen -q -t ed25519 -N '' -C alice -f " + dir_ + "/alice");
  Write(dir_ + "/allowed_signers",
        "alice@example.com " + Sh("cut -d' ' -f1,2 " + dir_ + "/alice.pub"));
  auto signed_commit = [&](const std::string& msg) {
    Sh("cd " + repo_ + " && git add -A && git -c user.name=t -c user.email=t@t -c gpg.format=ssh " +
       "-c user.signingkey=" + dir_ + "/alice commit -q -S --allow-empty -m '" + msg + "'");
    std::string sha = Sh("cd " + repo_ + " && git rev-parse HEAD");
    sha.pop_back();
    return sha;
  };
  std::string verified = signed_commit("signed baseline");
  verify_.allowed_signers_file = dir_ + "/allowed_signers";
  OpenController();
  ASSERT_TRUE(Converge().ok());
  EXPECT_EQ(LogLines("pg v1"), 1);

  Script("pg", "2", 0);
  Commit("bump pg, unsigned");
  std::string unsigned_tip = Sh("cd " + repo_ + " && git rev-parse HEAD");
  unsigned_tip.pop_back();
  controller_->NotifySourceChanged("test");
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->plan.revision, verified);
  EXPECT_EQ(LogLines("pg v2"), 0) << "an unsigned commit is never applied";
  FleetStatus st = controller_->Status();
  EXPECT_EQ(st.source.revision, unsigned_tip);
  EXPECT_EQ(st.source.last_valid_revision, verified);
  EXPECT_EQ(st.source.unverified_revision, unsigned_tip);
  EXPECT_EQ(st.source.unverified_commit, unsigned_tip);
  EXPECT_EQ(st.source.unverified_reason.rfind("unsigned", 0), 0u) << st.source.unverified_reason;
  EXPECT_TRUE(st.source.spec_errors.empty());
  bool event = false;
  for (const Event& e : st.events) event |= e.reason == "SignatureUnverified";
  EXPECT_TRUE(event) << Describe(st);
  // The status survives its JSON round trip (the API and `gitdisc status --server`).
  auto back = FleetStatusFromJson(ToJson(st));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->source, st.source);

  // An explicit unsigned revision is refused the same way.
  auto at = controller_->PlanAt(unsigned_tip);
  ASSERT_FALSE(at.ok());
  EXPECT_NE(at.status().message().find("signature: unsigned"), std::string::npos)
      << at.status().message();

  // Signed again: the fleet moves on.
  std::string fixed = signed_commit("signed pg 2");
  controller_->NotifySourceChanged("test");
  pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->plan.revision, fixed);
  EXPECT_EQ(LogLines("pg v2"), 1);
  EXPECT_TRUE(controller_->Status().source.unverified_revision.empty());
}

// A scan that stops waiting for observations at once (scan_wait 1 ms, as
// under heavy load) still gets every VM seen: late observations are
// installed as they end and wake another scan, in the daemon (both timers an
// hour) and in reconcile.
TEST_F(ControllerTest, ObservationsThatEndAfterTheirScanStillDriveTheRollout) {
  tweak_ = [](ControllerOptions& o) {
    o.scan_wait = std::chrono::milliseconds(1);
    o.backoff_base = std::chrono::hours(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  controller_->Start();
  ASSERT_TRUE(WaitFor([&] { return controller_->Ready() && controller_->Status().Converged(); }))
      << Describe(controller_->Status());
  controller_->Stop();
  EXPECT_EQ(LogLines("motd v1"), 2);
  EXPECT_EQ(LogLines("pg v1"), 1);

  Script("pg", "2", 0);
  Commit("bump pg");
  OpenController();  // a stopped controller's queue is shut down: reconcile is a new one
  auto pass = Converge();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_TRUE(pass->converged) << Describe(controller_->Status());
  EXPECT_EQ(LogLines("pg v2"), 1);
  ExpectAllDrivesEmpty();
}

// ---- hostile guests (docs/security.md "A hostile guest") ---------------------

// A set of its own for the hostile VMs, so that their rollout never holds
// back the honest sets (web, db).
class HostileGuestTest : public ControllerTest {
 protected:
  void AddHostileSet() {
    Write(repo_ + "/hostile.yaml", R"(apiVersion: gitdisc/v1
kind: PayloadSet
metadata: {name: hostile}
spec:
  selector: {matchLabels: {role: hostile}}
  payloads:
    - {name: motd, version: "1", path: payloads/motd, run: ["./install.sh"], timeout: 1m}
  rollout: {maxParallel: "100%", maxFailures: 100}
)");
    Commit("hostile set");
  }
  std::string AddHostile(const std::string& name, testing::Hostility h) {
    return fleet_->AddHostileVm(name, {{"role", "hostile"}}, h);
  }
  int Opens(const std::string& key) { return Count("OpenAgentChannel " + key); }
};

// Honest VMs converge, exactly once, beside guests that flood, never end a
// line, stay mute or flood events during their apply; each hostile VM is
// reported with its own condition and the bound it broke; reconcile ends by
// its deadline; a dry plan (/api/v1/plan) finishes in bounded time.
TEST_F(HostileGuestTest, HonestVmsConvergeOnceBesideHostileGuestsWhichAreReported) {
  AddHostileSet();
  std::string newline = AddHostile("x-newline", testing::Hostility::kNewlineFlood);
  std::string junk = AddHostile("x-junk", testing::Hostility::kJunkJsonFlood);
  std::string endless = AddHostile("x-endless", testing::Hostility::kEndlessLine);
  std::string mute = AddHostile("x-mute", testing::Hostility::kMute);
  std::string events = AddHostile("x-events", testing::Hostility::kEventFloodOnApply);
  tweak_ = [](ControllerOptions& o) {
    o.agent.request_timeout = std::chrono::milliseconds(500);
    o.observe_timeout = std::chrono::seconds(2);
    o.scan_wait = std::chrono::seconds(1);
  };
  OpenController();

  auto start = std::chrono::steady_clock::now();
  auto pass = controller_->RunUntilConverged(start + std::chrono::seconds(8));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_FALSE(pass->converged);
  EXPECT_LT(took, std::chrono::seconds(20)) << "reconcile ends by its deadline";
  EXPECT_EQ(LogLines("motd v1"), 2) << "web-1 and web-2, once each";
  EXPECT_EQ(LogLines("pg v1"), 1);
  for (const std::string& k : {web1_, web2_, db1_}) {
    EXPECT_EQ(pass->plan.Find(k)->condition, VmCondition::kReady) << k;
  }

  FleetStatus st = controller_->Status();
  auto expect = [&](const std::string& key, VmCondition c, const std::string& reason) {
    auto v = FindVm(st, key);
    ASSERT_TRUE(v.has_value()) << key;
    EXPECT_EQ(v->condition, c) << v->name << ": " << v->reason << " " << v->message;
    EXPECT_EQ(v->reason, reason) << v->name << ": " << v->message;
    EXPECT_LT(v->message.size(), 400u) << "nothing the guest sent is quoted unbounded";
  };
  expect(newline, VmCondition::kAgentMisbehaving, "JunkLines");
  expect(junk, VmCondition::kAgentMisbehaving, "JunkLines");
  expect(endless, VmCondition::kAgentMisbehaving, "LineTooLong");
  expect(mute, VmCondition::kAgentUnavailable, "AgentUnavailable");
  expect(events, VmCondition::kAgentMisbehaving, "TooManyEvents");
  int reported = 0;
  for (const Event& e : st.events) reported += e.reason == "AgentCutOff";
  EXPECT_EQ(reported, 4) << "each misbehaviour reported once" << Describe(st);
  EXPECT_EQ(FindVm(st, events)->condition, VmCondition::kAgentMisbehaving);

  // Backed off: a dry plan does not open their channels again, and ends in
  // bounded time although the mute guest never answers.
  provider_->ClearCalls();
  auto plan_start = std::chrono::steady_clock::now();
  auto plan = controller_->PlanAt("");
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - plan_start, std::chrono::seconds(6));
  for (const std::string& k : {newline, junk, endless, events}) EXPECT_EQ(Opens(k), 0) << k;
  EXPECT_LE(Opens(mute), 1) << "a mute agent may be booting: it is asked again (unless an "
                               "earlier observation of it still runs)";
}

// The backoff doubles each time a guest misbehaves again, and nobody opens
// its channel in between.
TEST_F(HostileGuestTest, AMisbehavingGuestIsBackedOffExponentially) {
  AddHostileSet();
  std::string newline = AddHostile("x-newline", testing::Hostility::kNewlineFlood);
  tweak_ = [](ControllerOptions& o) { o.agent_backoff_base = std::chrono::seconds(1); };
  OpenController();
  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  EXPECT_EQ(Opens(newline), 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  EXPECT_EQ(Opens(newline), 1) << "backed off: not opened again within its backoff";
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // base 1 s + up to 1 s jitter
  ASSERT_TRUE(controller_->RunPass(/*execute=*/false).ok());
  EXPECT_EQ(Opens(newline), 2);
  auto v = FindVm(controller_->Status(), newline);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->condition, VmCondition::kAgentMisbehaving);
  EXPECT_NE(v->message.find("2 times in a row"), std::string::npos) << v->message;
  std::vector<std::string> messages;
  for (const Event& e : controller_->Status().events) {
    if (e.reason == "AgentCutOff") messages.push_back(e.message);
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].find("for 1 s") != std::string::npos ||
              messages[0].find("for 2 s") != std::string::npos)
      << messages[0];
  EXPECT_TRUE(messages[1].find("for 2 s") != std::string::npos ||
              messages[1].find("for 3 s") != std::string::npos)
      << messages[1];
}

// Observation uses a bounded pool and a scan waits for it a bounded time:
// twelve mute guests on two observers do not hold an executing scan for
// their twelve timeouts, and the honest VMs still converge.
TEST_F(HostileGuestTest, MuteGuestsDoNotHoldAScanOrTheDaemon) {
  AddHostileSet();
  for (int i = 0; i < 12; ++i) {
    AddHostile("x-mute-" + std::to_string(i), testing::Hostility::kMute);
  }
  tweak_ = [](ControllerOptions& o) {
    o.observers = 2;
    o.agent.request_timeout = std::chrono::milliseconds(300);
    o.agent.max_attempts = 2;
    o.observe_timeout = std::chrono::seconds(1);
    o.scan_wait = std::chrono::milliseconds(500);
    o.backoff_base = std::chrono::hours(1);
    o.resync_interval = std::chrono::hours(1);
  };
  OpenController();
  auto start = std::chrono::steady_clock::now();
  auto pass = controller_->RunPass(/*execute=*/false);
  ASSERT_TRUE(pass.ok());
  // A dry scan waits at most observe_timeout + 1 s, whatever the pool's queue.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  controller_->Start();
  ASSERT_TRUE(WaitFor([&] {
    FleetStatus st = controller_->Status();
    auto db = FindVm(st, db1_);
    auto web2 = FindVm(st, web2_);
    return db && web2 && db->condition == VmCondition::kReady &&
           web2->condition == VmCondition::kReady;
  })) << Describe(controller_->Status());
  auto plan_start = std::chrono::steady_clock::now();
  EXPECT_TRUE(controller_->PlanAt("").ok()) << "the API's plan runs beside the daemon's scans";
  EXPECT_LT(std::chrono::steady_clock::now() - plan_start, std::chrono::seconds(4));
  controller_->Stop();
  EXPECT_EQ(LogLines("motd v1"), 2);
  EXPECT_EQ(LogLines("pg v1"), 1);
}

}  // namespace
}  // namespace gitdisc::reconciler
