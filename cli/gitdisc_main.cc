// gitdisc: the controller's command line. Thin by design: all work is in
// cli/cli.cc and the cmd_*.cc subcommands.
#include <csignal>
#include <unistd.h>

#include <iostream>

#include "iso/iso_reader.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  // A peer that goes away (an agent channel, an HTTP client) must surface as
  // a write error on that connection, not kill the controller.
  std::signal(SIGPIPE, SIG_IGN);
  // `iso verify` must report a bad image, not exit inside libcdio.
  gitdisc::iso::RouteLibcdioLogs("gitdisc");
  gitdisc::cli::Io io{std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1};
  return gitdisc::cli::RunCli(argc, argv, io);
}
