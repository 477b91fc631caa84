// The example fleet (examples/fleet) validates, and each payload's install.sh
// really does its job when run by busybox sh, installing below a scratch root.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "base/file_util.h"
#include "specs/folder_tree.h"
#include "specs/spec_loader.h"
#include "specs/test_folder.h"

namespace gitdisc::specs {
namespace {

const std::string kFleet = std::string(GITDISC_SOURCE_DIR) + "/examples/fleet";

// Runs a payload's install.sh like the agent would (cwd = payload folder,
// the spec's env), with EXAMPLE_ROOT pointing at `root`.
int RunInstall(const Payload& p, const std::string& root) {
  std::string cmd = "cd '" + kFleet + "/" + std::get<PathSource>(p.source).path + "' && env";
  cmd += " EXAMPLE_ROOT='" + root + "'";
  for (const auto& [k, v] : p.env) cmd += " " + k + "='" + v + "'";
  cmd += " busybox sh " + p.run[0] + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "<" + r.status().ToString() + ">";
}

TEST(ExampleFleet, Validates) {
  auto tree = OpenFolderTree(kFleet);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  auto load = LoadSpecs(**tree, "");
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  for (const Diagnostic& d : load->diagnostics) ADD_FAILURE() << d.ToString();
  ASSERT_EQ(load->sets.size(), 3u);
  EXPECT_EQ(load->sets[0].name, "baseline");
  EXPECT_EQ(load->sets[0].selector.names, std::vector<std::string>{"*"});
  EXPECT_EQ(load->sets[1].name, "db");
  EXPECT_EQ(load->sets[2].name, "web");
  EXPECT_EQ(load->sets[2].rollout.canary, 1);
  EXPECT_EQ(load->payload_count(), 6);
  for (const PayloadSet& s : load->sets) {
    for (const Payload& p : s.payloads) {
      EXPECT_TRUE(std::holds_alternative<PathSource>(p.source)) << p.name;
    }
  }
}

TEST(ExampleFleet, InstallScriptsWorkUnderBusyboxSh) {
  if (std::system("busybox true >/dev/null 2>&1") != 0) {
    GTEST_FAIL() << "busybox is not installed (scripts/install-deps.sh installs busybox-static)";
  }
  auto tree = OpenFolderTree(kFleet);
  ASSERT_TRUE(tree.ok());
  auto load = LoadSpecs(**tree, "");
  ASSERT_TRUE(load.ok());
  TestFolder root;
  for (const PayloadSet& s : load->sets) {
    for (const Payload& p : s.payloads) {
      EXPECT_EQ(RunInstall(p, root.path()), 0) << p.name;
      EXPECT_EQ(Read(root.Abs("var/lib/gitdisc-example/" + p.name + ".done")), "version=1\n")
          << p.name;
      // Twice is harmless.
      EXPECT_EQ(RunInstall(p, root.path()), 0) << p.name;
    }
  }
  EXPECT_EQ(Read(root.Abs("etc/motd")).rfind("Welcome to example fleet.\n", 0), 0u);
  std::string site = Read(root.Abs("etc/nginx/conf.d/gitdisc-example.conf"));
  EXPECT_NE(site.find("listen 8080;"), std::string::npos) << site;
  EXPECT_NE(site.find("server_name www.example.internal;"), std::string::npos) << site;
  EXPECT_EQ(Read(root.Abs("usr/local/share/ca-certificates/gitdisc-example-root-ca.crt")),
            Read(kFleet + "/payloads/example-ca/gitdisc-example-root-ca.crt"));
  EXPECT_NE(Read(root.Abs("etc/sysctl.d/60-gitdisc-web.conf")).find("net.core.somaxconn"),
            std::string::npos);
  EXPECT_NE(Read(root.Abs("etc/sysctl.d/60-gitdisc-db.conf")).find("vm.swappiness = 10"),
            std::string::npos);
  EXPECT_NE(Read(root.Abs("etc/postgresql/conf.d/gitdisc-example.conf")).find("max_connections"),
            std::string::npos);
}

TEST(ExampleFleet, NginxConfigRefusesABadPort) {
  auto tree = OpenFolderTree(kFleet);
  ASSERT_TRUE(tree.ok());
  auto load = LoadSpecs(**tree, "");
  ASSERT_TRUE(load.ok());
  Payload nginx = load->sets[2].payloads[1];
  ASSERT_EQ(nginx.name, "nginx-config");
  nginx.env["LISTEN_PORT"] = "80; include /etc/passwd";
  TestFolder root;
  EXPECT_EQ(RunInstall(nginx, root.path()), 1);
  EXPECT_FALSE(PathExists(root.Abs("etc/nginx/conf.d/gitdisc-example.conf")));
}

}  // namespace
}  // namespace gitdisc::specs
