// The command line itself: global options, help, and what a bare command
// that cannot know what was meant says.
#include "cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "cli/cli_run_for_test.h"

namespace gitdisc::cli {
namespace {

using ::testing::HasSubstr;

TEST(Cli, EverySubcommandsHelpShowsTheGlobalOptions) {
  for (const Command& cmd : Commands()) {
    CliRun r = RunCliForTest({cmd.name, "--help"});
    EXPECT_EQ(r.code, kExitOk) << cmd.name << r.err;
    for (const char* flag : {"--repo", "--branch", "--rev", "--path", "--connect", "--output",
                             "--state-dir", "--verbose"}) {
      EXPECT_THAT(r.out, HasSubstr(flag)) << cmd.name << " --help lacks " << flag;
    }
  }
}

TEST(Cli, GlobalOptionsMayFollowTheCommandName) {
  // An invalid -o after the command is checked like one before it.
  CliRun after = RunCliForTest({"validate", "-o", "yaml"});
  EXPECT_EQ(after.code, kExitError);
  EXPECT_THAT(after.err, HasSubstr("yaml"));
  CliRun repo = RunCliForTest(
      {"validate", "--repo", GITDISC_SOURCE_DIR, "--path", "examples/fleet", "-o", "json"});
  EXPECT_EQ(repo.code, kExitOk) << repo.err;
  EXPECT_THAT(repo.out, HasSubstr("\"valid\": true"));
}

TEST(Cli, BareDiffSaysWhatToCompareInsteadOfGuessingAFleet) {
  ::unsetenv("LIBVIRT_DEFAULT_URI");
  CliRun r = RunCliForTest({"diff", "--repo", GITDISC_SOURCE_DIR, "--path", "examples/fleet"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, HasSubstr("--base REV"));
  EXPECT_THAT(r.err, HasSubstr("--connect URI"));
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace gitdisc::cli
