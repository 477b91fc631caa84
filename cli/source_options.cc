#include "cli/source_options.h"

#include <utility>

namespace gitdisc::cli {

Result<specs::SourceOptions> SourceOptionsFrom(const GlobalOptions& global) {
  specs::SourceOptions so;
  so.repo = global.repo.empty() ? "." : global.repo;
  so.branch = global.branch;
  so.spec_path = global.path;
  so.state_dir = global.StateDir();
  so.artifact_policy = {global.artifact_roots, global.allow_http_artifacts};
  GITDISC_ASSIGN_OR_RETURN(so.credentials, specs::GitCredentials::FromEnvironment());
  so.verify.allowed_signers_file = global.allowed_signers;
  so.verify.gpg_keyring_file = global.gpg_keyring;
  GITDISC_ASSIGN_OR_RETURN(so.verify.mode, specs::ParseVerifyMode(global.verify_mode));
  so.pull_requests = global.pull_requests;
  return so;
}

}  // namespace gitdisc::cli
