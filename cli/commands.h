// Constructors of the subcommands, one per cmd_<name>.cc. The table in
// commands.cc lists them; nothing else should call these.
#ifndef GITDISC_CLI_COMMANDS_H_
#define GITDISC_CLI_COMMANDS_H_

#include "cli/cli.h"

namespace gitdisc::cli {

Command ValidateCommand();
Command DiffCommand();
Command ReconcileCommand();
Command ServeCommand();
Command StatusCommand();
Command LabelCommand();
Command IsoCommand();
Command VmCommand();
Command CacheCommand();

// For a command whose implementation has not landed yet: accepts any
// arguments, says so on stderr and exits 2.
Command NotBuiltYet(const char* name, const char* summary);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_COMMANDS_H_
