#include "base/subprocess.h"

#include <gtest/gtest.h>

#include <chrono>

namespace gitdisc {
namespace {

SubprocessSpec Sh(const std::string& script) {
  SubprocessSpec s;
  s.argv = {"/bin/sh", "-c", script};
  return s;
}

TEST(Subprocess, FeedsStdinAndCapturesBothStreams) {
  SubprocessSpec s = Sh("cat; echo oops >&2; exit 3");
  s.stdin_data = "hello\n";
  auto r = RunSubprocess(s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "oops\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->ok());
}

TEST(Subprocess, GetsExactlyTheGivenEnvironment) {
  SubprocessSpec s = Sh("env");
  s.env = {"ONLY=this"};
  auto r = RunSubprocess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->out.find("ONLY=this"), std::string::npos);
  EXPECT_EQ(r->out.find("HOME="), std::string::npos);
}

TEST(Subprocess, KeepsOnlyTheBoundOfAFloodOfOutput) {
  SubprocessSpec s = Sh("head -c 1000000 /dev/zero");
  s.max_output = 100;
  auto r = RunSubprocess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), 100u);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Subprocess, AChildPastItsDeadlineIsKilledWithItsGroup) {
  SubprocessSpec s = Sh("sleep 30 & sleep 30");
  s.timeout = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  auto r = RunSubprocess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->ok());
  // The background sleep held stdout open too: it was killed with the group.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Subprocess, AChildThatIgnoresLargeStdinDoesNotBlockOrKillTheCaller) {
  SubprocessSpec s = Sh("exit 0");
  s.stdin_data.assign(4 << 20, 'x');
  auto r = RunSubprocess(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Subprocess, AMissingProgramIsNotFound) {
  SubprocessSpec s;
  s.argv = {"/nonexistent/helper"};
  auto r = RunSubprocess(s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

TEST(Subprocess, InheritsNoDescriptorButTheStandardOnes) {
  auto r = RunSubprocess(Sh("ls /proc/self/fd"));
  ASSERT_TRUE(r.ok());
  // 0, 1, 2 and the descriptor ls opened to read the folder.
  EXPECT_EQ(r->out, "0\n1\n2\n3\n");
}

}  // namespace
}  // namespace gitdisc
