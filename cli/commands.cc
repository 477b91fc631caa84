#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"

namespace gitdisc::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      ValidateCommand(), DiffCommand(),  ReconcileCommand(), ServeCommand(), StatusCommand(),
      LabelCommand(),    IsoCommand(),   VmCommand(),        CacheCommand(),
  };
  return kCommands;
}

Command NotBuiltYet(const char* name, const char* summary) {
  return Command{name, summary, [name](CLI::App* sub, const GlobalOptions*, Io* io) {
                   sub->allow_extras();
                   sub->footer("This command is not built yet in this version of gitdisc.");
                   return std::function<int()>([name, io] {
                     io->err << "gitdisc " << name << ": not built yet in this version\n";
                     return kExitError;
                   });
                 }};
}

}  // namespace gitdisc::cli
