// The gitdisc CLI against govmomi's vCenter simulator: `label`, `diff`,
// `reconcile` and `status` with --connect vsphere://…, run in-process through
// RunCli (the same code as the binary's main), with fake guests
// (tests/support/vsphere_fake_guest.h) running the real agent behind the
// guestinfo mailbox, and a real Git repository made with `git`.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/file_util.h"
#include "providers/vsphere_provider.h"
#include "cli/cli.h"
#include "tests/git/git_test_util.h"
#include "tests/support/vcsim_process.h"
#include "tests/support/vsphere_fake_guest.h"

namespace gitdisc {
namespace {

using test_support::VcsimProcess;

struct CliRun {
  int code;
  std::string out, err;
};

int CountLines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

class VsphereCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test_support::VcsimOptions o;
    o.binary = GITDISC_VCSIM_BIN;
    auto sim = VcsimProcess::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(*sim);
    effects_ = tmp_ / "effects.log";
    repo_.Write("payloads/motd/install.sh",
                "#!/bin/sh\necho \"motd applied by $GITDISC_OP_ID\" >> " + effects_ + "\n", 0755);
    repo_.Write("web.yaml",
                "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata:\n  name: web\nspec:\n"
                "  selector:\n    matchLabels: {role: web}\n  payloads:\n"
                "    - name: motd\n      version: \"1\"\n      path: payloads/motd\n"
                "      run: [\"./install.sh\"]\n      timeout: 1m\n"
                "  rollout:\n    maxParallel: 2\n");
    repo_.Commit("web");
  }

  CliRun Cli(std::vector<std::string> args, const std::string& uri = "") {
    args.insert(args.begin(), "gitdisc");
    args.insert(args.end(), {"--connect", uri.empty() ? sim_->Uri() : uri, "--state-dir",
                             tmp_ / "state"});
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code = cli::RunCli(static_cast<int>(argv.size()), argv.data(), cli::Io{out, err, false});
    CliRun r{code, out.str(), err.str()};
    // Whatever happens, the password is never printed.
    EXPECT_EQ(r.out.find(sim_->options().password), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(sim_->options().password), std::string::npos) << r.err;
    return r;
  }

  testing::TempDir tmp_;
  testing::WorkRepo repo_;
  std::unique_ptr<VcsimProcess> sim_;
  std::string effects_;
};

TEST_F(VsphereCliTest, LabelDiffReconcileStatusConvergeOnTheSimulator) {
  CliRun l0 = Cli({"label", "DC0_H0_VM0", "role=web"});
  ASSERT_EQ(l0.code, 0) << l0.err;
  EXPECT_EQ(l0.out, "DC0_H0_VM0: role=web\n");
  ASSERT_EQ(Cli({"label", "DC0_H0_VM1", "role=web", "tier=edge"}).code, 0);
  CliRun l1 = Cli({"label", "DC0_H0_VM1", "tier-"});
  ASSERT_EQ(l1.code, 0) << l1.err;
  EXPECT_EQ(l1.out, "DC0_H0_VM1: role=web\n");
  CliRun nobody = Cli({"label", "no-such-vm", "role=web"});
  EXPECT_EQ(nobody.code, 2);
  EXPECT_NE(nobody.err.find("no VM named no-such-vm"), std::string::npos) << nobody.err;

  auto g0 = test_support::VsphereFakeGuest::Start(sim_->Uri(), "DC0_H0_VM0", tmp_ / "g0");
  ASSERT_TRUE(g0.ok()) << g0.status().ToString();
  auto g1 = test_support::VsphereFakeGuest::Start(sim_->Uri(), "DC0_H0_VM1", tmp_ / "g1");
  ASSERT_TRUE(g1.ok()) << g1.status().ToString();

  CliRun d1 = Cli({"diff", "--repo", repo_.path()});
  EXPECT_EQ(d1.code, 1) << d1.out << d1.err;
  EXPECT_NE(d1.out.find("+ DC0_H0_VM0"), std::string::npos) << d1.out;
  EXPECT_NE(d1.out.find("+ DC0_H0_VM1"), std::string::npos) << d1.out;
  EXPECT_EQ(d1.out.find("DC0_C0_RP0_VM0  install"), std::string::npos) << "not selected";

  CliRun r1 = Cli({"reconcile", "--repo", repo_.path(), "--timeout", "3m"});
  ASSERT_EQ(r1.code, 0) << r1.out << r1.err;
  EXPECT_EQ(CountLines(effects_), 2) << *ReadFile(effects_);
  EXPECT_EQ((*g0)->discs_seen(), 1);
  EXPECT_EQ((*g1)->discs_seen(), 1);

  // Discs are ejected; the image stays on the datastore for the next VM.
  auto p = VsphereProvider::Open(sim_->Uri());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto vms = (*p)->ListVms();
  ASSERT_TRUE(vms.ok());
  for (const VmInfo& v : *vms) {
    for (const DriveInfo& d : v.cdroms) EXPECT_EQ(d.source, "") << v.name;
  }

  CliRun d2 = Cli({"diff", "--repo", repo_.path()});
  EXPECT_EQ(d2.code, 0) << d2.out << d2.err;
  CliRun r2 = Cli({"reconcile", "--repo", repo_.path(), "--timeout", "2m"});
  EXPECT_EQ(r2.code, 0) << r2.out << r2.err;
  EXPECT_EQ(CountLines(effects_), 2) << "nothing applied twice";

  CliRun st = Cli({"status", "--repo", repo_.path()});
  EXPECT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("DC0_H0_VM0"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("DC0_H0_VM1"), std::string::npos) << st.out;
}

TEST_F(VsphereCliTest, AWrongPasswordExitsTwoWithAClearMessage) {
  ASSERT_TRUE(WriteFileAtomic(tmp_ / "wrong", "Not-The-Right-0ne\n", 0600).ok());
  std::string uri = "vsphere://gitdisc@" + sim_->address() + "/DC0?insecure=1&passwordFile=" +
                    (tmp_ / "wrong");
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"diff", "--repo", repo_.path()},
        std::vector<std::string>{"label", "DC0_H0_VM0", "role=web"},
        std::vector<std::string>{"status", "--repo", repo_.path()}}) {
    CliRun r = Cli(cmd, uri);
    EXPECT_EQ(r.code, 2) << cmd[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("Login as gitdisc"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("InvalidLogin"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Not-The-Right-0ne"), std::string::npos) << r.err;
  }
  CliRun inline_pw = Cli({"label", "DC0_H0_VM0", "role=web"},
                         "vsphere://gitdisc:" + sim_->options().password + "@" + sim_->address() +
                             "/DC0?insecure=1&passwordFile=" + sim_->password_file());
  EXPECT_EQ(inline_pw.code, 2);
  EXPECT_NE(inline_pw.err.find("password in the URI is refused"), std::string::npos)
      << inline_pw.err;
  CliRun missing = Cli({"label", "DC0_H0_VM0", "role=web"},
                       "vsphere://gitdisc@" + sim_->address() + "/DC0?insecure=1&passwordFile=" +
                           (tmp_ / "no-such-file"));
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("passwordFile"), std::string::npos) << missing.err;
}

TEST_F(VsphereCliTest, ASimulatorThatIsGoneIsAnErrorNotAHang) {
  sim_->Kill();
  auto t0 = std::chrono::steady_clock::now();
  CliRun r = Cli({"diff", "--repo", repo_.path()});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(sim_->address()), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
}

}  // namespace
}  // namespace gitdisc
