// RunCliForTest: runs `gitdisc ARGS…` in-process through RunCli and returns
// what it printed. Test-only (header-only: never compiled into gitdisc_cli);
// used by the CLI's own tests and the integration tests that drive commands.
#ifndef GITDISC_CLI_CLI_RUN_FOR_TEST_H_
#define GITDISC_CLI_CLI_RUN_FOR_TEST_H_

#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace gitdisc::cli {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// args exclude the program name.
inline CliRun RunCliForTest(const std::vector<std::string>& args, bool out_is_tty = false) {
  std::vector<const char*> argv = {"gitdisc"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), Io{out, err, out_is_tty});
  return CliRun{code, out.str(), err.str()};
}

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_CLI_RUN_FOR_TEST_H_
