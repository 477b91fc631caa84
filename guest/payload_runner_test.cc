#include "guest/payload_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>

#include "base/file_util.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::guest {
namespace {

using ::gitdisc::testing::TempDir;

using std::chrono::milliseconds;

RunSpec Sh(const std::string& script, const std::string& cwd = "/tmp") {
  RunSpec s;
  s.argv = {"sh", "-c", script};
  s.cwd = cwd;
  s.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  return s;
}

// A process that no longer runs: gone, or a zombie waiting for its reaper.
bool Dead(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'Z';
}

void WaitDead(pid_t pid) {
  // The kill is sent before RunPayloadProcess returns; delivery is immediate
  // but the exit is asynchronous, so wait for it without a time assertion.
  while (!Dead(pid)) ::usleep(10'000);
}

TEST(PayloadRunner, APayloadDoesNotOutliveItsAgent) {
  TempDir dir("runner");
  std::string late = dir.path() + "/late";
  pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {  // the "agent": runs a payload that finishes after a while
    (void)RunPayloadProcess(Sh("sleep 1; echo done > " + late));
    ::_exit(0);
  }
  ::usleep(300'000);  // the payload is running (sleeping)
  ::kill(agent, SIGKILL);
  int status = 0;
  ::waitpid(agent, &status, 0);
  ::usleep(1'500'000);  // past the payload's sleep
  EXPECT_FALSE(PathExists(late)) << "the orphaned payload ran to the end";
}

TEST(PayloadRunner, CapturesStdoutAndStderrAndExitCode) {
  TempDir dir("runner");
  auto r = RunPayloadProcess(Sh("echo out; echo err >&2; pwd; exit 3", dir.path()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, RunOutcome::Kind::kExited);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->output_tail, "out\nerr\n" + dir.path() + "\n");
}

TEST(PayloadRunner, EnvironmentIsExactlyWhatWasGiven) {
  RunSpec s = Sh("env | sort");
  s.env.push_back("GITDISC_PAYLOAD=motd");
  ::setenv("GITDISC_LEAK_CHECK", "1", 1);
  auto r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output_tail.find("GITDISC_PAYLOAD=motd\n"), std::string::npos);
  EXPECT_EQ(r->output_tail.find("GITDISC_LEAK_CHECK"), std::string::npos);
}

TEST(PayloadRunner, KeepsOnlyTheTailOfLongOutput) {
  RunSpec s = Sh("i=0; while [ $i -lt 5000 ]; do echo line-$i; i=$((i+1)); done");
  s.tail_bytes = 100;
  auto r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output_tail.size(), 100u);
  EXPECT_EQ(r->output_tail.substr(r->output_tail.size() - 10), "line-4999\n");
  EXPECT_GT(r->output_bytes, 40000u);
}

TEST(PayloadRunner, TimeoutKillsTheWholeProcessGroup) {
  TempDir dir("runner");
  std::string pidfile = dir.path() + "/child.pid";
  RunSpec s = Sh("sleep 1000 & echo $! > " + pidfile + "; echo started; sleep 1000");
  s.timeout = milliseconds(500);
  s.kill_grace = milliseconds(200);
  auto r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kTimedOut);
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
  EXPECT_EQ(r->output_tail, "started\n");
  auto pid = ReadFile(pidfile);
  ASSERT_TRUE(pid.ok());
  WaitDead(static_cast<pid_t>(std::stol(*pid)));
}

TEST(PayloadRunner, TermIgnoringPayloadIsKilledAfterTheGrace) {
  RunSpec s = Sh("trap '' TERM; echo armed; while :; do sleep 1; done");
  s.timeout = milliseconds(300);
  s.kill_grace = milliseconds(300);
  auto r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kTimedOut);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL);
}

TEST(PayloadRunner, LeftoverChildDoesNotHoldTheRunAndIsKilled) {
  TempDir dir("runner");
  std::string pidfile = dir.path() + "/child.pid";
  // The main process exits at once; its background child keeps the pipe open.
  auto r = RunPayloadProcess(Sh("sleep 1000 & echo $! > " + pidfile + "; echo bye"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kExited);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output_tail, "bye\n");
  WaitDead(static_cast<pid_t>(std::stol(*ReadFile(pidfile))));
}

TEST(PayloadRunner, MissingProgramIsAStartFailure) {
  RunSpec s;
  s.argv = {"./no-such-install.sh"};
  s.cwd = "/tmp";
  auto r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kStartFailed);
  EXPECT_NE(r->output_tail.find("No such file"), std::string::npos) << r->output_tail;
  s.argv = {"true"};
  s.cwd = "/no/such/dir";
  r = RunPayloadProcess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kStartFailed);
  EXPECT_NE(r->output_tail.find("cannot enter"), std::string::npos);
}

// The race the in-process controller tests hit under load: another thread
// forks while a script is still open for writing, so that child holds a
// write fd to it until its own exec, and exec of the script fails with
// ETXTBSY meanwhile. Here another process holds the fd for 100 ms; the
// runner waits it out instead of failing the payload.
TEST(PayloadRunner, AScriptStillOpenForWritingElsewhereRunsOnceItIsClosed) {
  TempDir dir("runner");
  std::string script = dir.path() + "/install.sh";
  ASSERT_TRUE(WriteFileAtomic(script, "#!/bin/sh\necho ran\n", 0755).ok());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    int fd = ::open(script.c_str(), O_WRONLY | O_APPEND);
    char c = fd >= 0 ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::usleep(100 * 1000);
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  RunSpec s;
  s.argv = {"./install.sh"};
  s.cwd = dir.path();
  auto r = RunPayloadProcess(s);
  int status = 0;
  ::waitpid(writer, &status, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kExited) << r->output_tail;
  EXPECT_EQ(r->output_tail, "ran\n");
}

TEST(PayloadRunner, KilledBySignalReports128PlusSignal) {
  auto r = RunPayloadProcess(Sh("kill -9 $$"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RunOutcome::Kind::kSignaled);
  EXPECT_EQ(r->exit_code, 137);
}

}  // namespace
}  // namespace gitdisc::guest
