// SourceOptionsFrom: the Git source a command reads, from the global options
// (--repo, --branch, --path, STATE, --artifact-root/--allow-http-artifacts,
// the verification flags --allowed-signers/--gpg-keyring/--verify-mode) and the credentials in the
// environment (docs/git-source.md "Credentials"). One place, so validate,
// diff, reconcile, status and serve open the same Source the same way.
#ifndef GITDISC_CLI_SOURCE_OPTIONS_H_
#define GITDISC_CLI_SOURCE_OPTIONS_H_

#include "base/status.h"
#include "cli/cli.h"
#include "specs/source.h"

namespace gitdisc::cli {

// Fails when a credential file named in the environment cannot be read or
// --verify-mode is neither tip nor all.
Result<specs::SourceOptions> SourceOptionsFrom(const GlobalOptions& global);

}  // namespace gitdisc::cli

#endif  // GITDISC_CLI_SOURCE_OPTIONS_H_
