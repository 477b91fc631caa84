// The guest end of the channel: port lookup in a sysfs-like tree, and the
// real gitdisc-agent binary (static) driven over a unix socket with an ISO
// file as its disc.
#include "guest/agent_port.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "base/file_util.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using testing::ScriptPayload;
using testing::TempDir;

TEST(AgentPort, FindsThePortByItsName) {
  TempDir sys;
  ASSERT_TRUE(MakeDirs(sys / "vport0p1").ok());
  ASSERT_TRUE(MakeDirs(sys / "vport0p2").ok());
  ASSERT_TRUE(WriteFileAtomic(sys / "vport0p1/name", "org.qemu.guest_agent.0\n").ok());
  EXPECT_EQ(FindPortByName(sys.path(), kChannelName).status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(sys / "vport0p2/name", "org.gitdisc.agent.0\n").ok());
  auto port = FindPortByName(sys.path(), kChannelName);
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, "vport0p2");
}

// True when the ELF file has no program interpreter and no dynamic section.
bool IsStaticElf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh;
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return false;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return false;
  }
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * eh.e_phentsize));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
    if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) return false;
  }
  return true;
}

TEST(AgentBinary, IsStaticallyLinked) {
  // Sanitizer builds cannot link statically (guest/CMakeLists.txt).
  EXPECT_EQ(IsStaticElf(GITDISC_AGENT_BIN), GITDISC_AGENT_STATIC == 1) << GITDISC_AGENT_BIN;
  EXPECT_FALSE(IsStaticElf("/bin/sh"));  // the check can tell the difference
}

TEST(AgentBinary, ServesAHostOverAUnixSocketAndAppliesFromAnImage) {
  ::signal(SIGPIPE, SIG_IGN);
  TempDir tmp;
  std::string out = tmp / "effect";
  std::string err;
  std::string digest = testing::WriteBundle(
      {ScriptPayload("motd", "echo \"$GITDISC_PAYLOAD\" > \"$OUT\"; echo done\n", {{"OUT", out}})},
      tmp / "disc.iso", &err);
  ASSERT_FALSE(digest.empty()) << err;

  std::string sock = tmp / "agent.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string state = tmp / "state";
    std::string disc = tmp / "disc.iso";
    ::execl(GITDISC_AGENT_BIN, "gitdisc-agent", "--port", sock.c_str(), "--state-dir",
            state.c_str(), "--disc", disc.c_str(), "--once", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  ASSERT_GE(conn, 0);
  {
    AgentClient client(MakeFdStream(conn));
    auto hello = client.Hello();
    ASSERT_TRUE(hello.ok()) << hello.status().ToString();
    EXPECT_EQ(hello->agent_version, GITDISC_VERSION_FOR_TESTS);
    ASSERT_TRUE(client.Apply("op-bin", digest, {"motd"}).ok());
    auto done =
        client.WaitForDone("op-bin", std::chrono::steady_clock::now() + std::chrono::minutes(1));
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk);
    EXPECT_EQ(done->results.at(0).output_tail, "done\n");
    EXPECT_EQ(*ReadFile(out), "motd\n");
    auto ledger = client.Ledger();
    ASSERT_TRUE(ledger.ok());
    EXPECT_EQ(ledger->size(), 1u);
  }  // closing the connection ends the agent (--once)
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(PathExists(tmp / "state/ledger.json"));
}

}  // namespace
}  // namespace gitdisc::guest
