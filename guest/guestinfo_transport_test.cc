// The agent's vmware-guestinfo transport against a fake vmware-rpctool (a
// shell script keeping each guestinfo value in a file, answering as
// open-vm-tools does): the store's calls, and the agent — in-process and the
// real static binary with --transport vmware-guestinfo — serving a host that
// reads and writes the same values.
#include "guest/guestinfo_transport.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "base/file_util.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using testing::TempDir;

// Writes DIR/vmware-rpctool: values in DIR/values/<key>, every call logged to
// DIR/calls.log. Unset values answer "No value found" on stderr with exit 1.
std::string WriteFakeRpctool(const std::string& dir) {
  EXPECT_TRUE(MakeDirs(dir + "/values", 0755).ok());
  std::string script = "#!/bin/sh\n"
                       "dir='" + dir + "'\n"
                       "echo \"$1\" | cut -c1-60 >> \"$dir/calls.log\"\n"
                       "case \"$1\" in\n"
                       "  'info-get '*) key=${1#info-get }\n"
                       "    if [ -f \"$dir/values/$key\" ]; then cat \"$dir/values/$key\"; echo;\n"
                       "    else echo 'No value found' >&2; exit 1; fi ;;\n"
                       "  'info-set '*) rest=${1#info-set }; key=${rest%% *}; value=${rest#* }\n"
                       "    printf '%s' \"$value\" > \"$dir/values/$key.tmp\" &&\n"
                       "      mv \"$dir/values/$key.tmp\" \"$dir/values/$key\" ;;\n"
                       "  *) echo \"Unknown command\" >&2; exit 1 ;;\n"
                       "esac\n";
  std::string path = dir + "/vmware-rpctool";
  EXPECT_TRUE(WriteFileAtomic(path, script).ok());
  EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
  return path;
}

// The host's side of the same files: reads the reply, writes the request.
class FileHostSlots final : public MailboxSlots {
 public:
  explicit FileHostSlots(std::string values) : values_(std::move(values)) {}
  Result<std::string> ReadPeer() override {
    std::string p = values_ + "/" + kMailboxReplyKey;
    if (!PathExists(p)) return std::string();
    return ReadFile(p);
  }
  Status WriteOwn(const std::string& value) override {
    return WriteFileAtomic(values_ + "/" + kMailboxRequestKey, value);
  }

 private:
  std::string values_;
};

int CountCalls(const std::string& dir, const std::string& prefix) {
  std::ifstream in(dir + "/calls.log");
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

MailboxOptions HostOptions() {
  MailboxOptions o;
  o.min_poll = milliseconds(5);
  o.max_poll = milliseconds(50);
  return o;
}

TEST(RpctoolStore, GetsSetsAndReadsAnUnsetValueAsEmpty) {
  TempDir tmp;
  auto store = MakeRpctoolStore(WriteFakeRpctool(tmp.path()));
  auto unset = store->Get("guestinfo.gitdisc.request");
  ASSERT_TRUE(unset.ok()) << unset.status().ToString();
  EXPECT_EQ(*unset, "");
  ASSERT_TRUE(store->Set("guestinfo.gitdisc.reply", "gdm1 s 0 0 - aGk=").ok());
  EXPECT_EQ(*ReadFile(tmp / "values/guestinfo.gitdisc.reply"), "gdm1 s 0 0 - aGk=");
  auto back = store->Get("guestinfo.gitdisc.reply");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "gdm1 s 0 0 - aGk=");  // the tool's trailing newline is not part of it
  EXPECT_EQ(CountCalls(tmp.path(), "info-get"), 2);
  EXPECT_EQ(CountCalls(tmp.path(), "info-set"), 1);
}

TEST(RpctoolStore, AMissingOrFailingToolIsUnavailableAndSaysWhy) {
  TempDir tmp;
  auto missing = MakeRpctoolStore(tmp / "no-such-rpctool");
  auto r = missing->Get("guestinfo.x");
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(r.status().message().find("no-such-rpctool"), std::string::npos);
  std::string broken = tmp / "broken";
  ASSERT_TRUE(WriteFileAtomic(broken, "#!/bin/sh\necho 'RPCI: backdoor unavailable' >&2\nexit 2\n").ok());
  ASSERT_EQ(::chmod(broken.c_str(), 0755), 0);
  Status s = MakeRpctoolStore(broken)->Set("guestinfo.x", "v");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("backdoor unavailable"), std::string::npos) << s.message();
}

TEST(GuestinfoTransport, TheAgentServesAHostThroughVmwareRpctool) {
  ::signal(SIGPIPE, SIG_IGN);
  TempDir tmp;
  std::string rpctool = WriteFakeRpctool(tmp.path());
  std::string err;
  std::string digest = testing::WriteBundle(
      {testing::ScriptPayload("motd", "echo applied > \"$OUT\"\n", {{"OUT", tmp / "effect"}})},
      tmp / "disc.iso", &err);
  ASSERT_FALSE(digest.empty()) << err;
  auto agent = testing::MakeDiscAgent(tmp.path(), tmp / "disc.iso");
  ASSERT_TRUE(agent.ok());
  GuestinfoOptions go;
  go.idle_poll = milliseconds(20);
  go.mailbox.min_poll = milliseconds(5);
  go.mailbox.max_poll = milliseconds(50);
  go.max_connections = 1;
  auto transport = MakeGuestinfoTransport(MakeRpctoolStore(rpctool), go);
  // A stale, closed session in the mailbox is not served.
  ASSERT_TRUE(WriteFileAtomic(tmp / "values/guestinfo.gitdisc.request", "gdm1 old 0 0 fin ").ok());
  std::thread serving([&] { EXPECT_TRUE(transport->Run(**agent).ok()); });
  {
    AgentClient client(MailboxStream::OpenHost(
        std::make_unique<FileHostSlots>(tmp / "values"), NewMailboxSession(), HostOptions()));
    auto hello = client.Hello();
    ASSERT_TRUE(hello.ok()) << hello.status().ToString();
    ASSERT_TRUE(client.Apply("op-gi", digest, {"motd"}).ok());
    auto done = client.WaitForDone("op-gi", std::chrono::steady_clock::now() + std::chrono::minutes(1));
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk);
  }  // Close writes fin: the transport's one connection ends
  serving.join();
  (*agent)->WaitIdle();
  EXPECT_EQ(*ReadFile(tmp / "effect"), "applied\n");
  EXPECT_GT(CountCalls(tmp.path(), "info-get guestinfo.gitdisc.request"), 0);
  EXPECT_GT(CountCalls(tmp.path(), "info-set guestinfo.gitdisc.reply"), 0);
}

TEST(GuestinfoTransport, TheStaticAgentBinaryTakesTransportVmwareGuestinfo) {
  ::signal(SIGPIPE, SIG_IGN);
  TempDir tmp;
  std::string rpctool = WriteFakeRpctool(tmp.path());
  std::string err;
  std::string digest = testing::WriteBundle(
      {testing::ScriptPayload("motd", "echo from-binary > \"$OUT\"\n", {{"OUT", tmp / "effect"}})},
      tmp / "disc.iso", &err);
  ASSERT_FALSE(digest.empty()) << err;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string state = tmp / "state", disc = tmp / "disc.iso";
    ::execl(GITDISC_AGENT_BIN, "gitdisc-agent", "--transport", "vmware-guestinfo", "--rpctool",
            rpctool.c_str(), "--state-dir", state.c_str(), "--disc", disc.c_str(), "--once",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  {
    AgentClient client(MailboxStream::OpenHost(
        std::make_unique<FileHostSlots>(tmp / "values"), NewMailboxSession(), HostOptions()));
    auto hello = client.Hello();
    ASSERT_TRUE(hello.ok()) << hello.status().ToString();
    EXPECT_EQ(hello->agent_version, GITDISC_VERSION_FOR_TESTS);
    ASSERT_TRUE(client.Apply("op-bin-gi", digest, {"motd"}).ok());
    auto done =
        client.WaitForDone("op-bin-gi", std::chrono::steady_clock::now() + std::chrono::minutes(1));
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(*ReadFile(tmp / "effect"), "from-binary\n");
}

TEST(AgentBinary, RefusesAnUnknownTransport) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    ::execl(GITDISC_AGENT_BIN, "gitdisc-agent", "--transport", "carrier-pigeon",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 127);
}

}  // namespace
}  // namespace gitdisc::guest
