// gitdisc: the controller's command line. Thin by design: all work is in
// reconciler/cli.cc and the cmd_*.cc subcommands.
#include <unistd.h>

#include <iostream>

#include "reconciler/cli.h"

int main(int argc, char** argv) {
  gitdisc::cli::Io io{std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1};
  return gitdisc::cli::RunCli(argc, argv, io);
}
