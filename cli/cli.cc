#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

namespace gitdisc::cli {

std::string GlobalOptions::StateDir() const {
  if (!state_dir.empty()) return state_dir;
  if (::geteuid() == 0) return "/var/lib/gitdisc";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/gitdisc";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.local/state/gitdisc";
}

int RunCli(int argc, const char* const* argv, Io io) {
  CLI::App app{
      "gitdisc keeps the software inside virtual machines in the state a Git repository\n"
      "declares, delivering payloads on read-only discs hot-inserted into each VM's CD-ROM\n"
      "drive: no VM network is used.",
      "gitdisc"};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit status: 0 success, 1 the command's negative answer (invalid, changes, not\n"
      "converged), 2 could not run. Run 'gitdisc COMMAND --help' for a command's options.");

  GlobalOptions global;
  app.add_option("--repo", global.repo, "Git repository: a local path or a URL (default: .)");
  app.add_option("--branch", global.branch, "branch to follow (default: the remote's HEAD)");
  app.add_option("--rev", global.rev, "revision to read (default: the branch tip)");
  app.add_option("--path", global.path, "folder of the specs inside the repo (default: root)");
  app.add_option("--connect", global.connect,
                 "libvirt URI, repeatable (default for fleet commands: qemu:///system)");
  app.add_option("-o,--output", global.output, "output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--state-dir", global.state_dir,
                 "state folder (default /var/lib/gitdisc, or $XDG_STATE_HOME/gitdisc)");
  app.add_flag("-v,--verbose", global.verbose, "say more");
  app.add_option("--allowed-signers", global.allowed_signers,
                 "only commits signed by these SSH keys (git's allowed_signers format) count");
  app.add_option("--gpg-keyring", global.gpg_keyring,
                 "only commits signed by these OpenPGP keys (gpg --export) count");
  app.add_option("--verify-mode", global.verify_mode,
                 "with --allowed-signers/--gpg-keyring: the tip must be signed (tip, default), "
                 "or every commit since the last verified one (all)")
      ->check(CLI::IsMember({"tip", "all"}));
  app.set_version_flag("--version", std::string("gitdisc ") + GITDISC_VERSION);

  std::function<int()> action;
  for (const Command& cmd : Commands()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
    auto run = cmd.setup(sub, &global, &io);
    sub->final_callback([&action, run] { action = run; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0 in CLI11.
    int rc = app.exit(e, io.out, io.err);
    return rc == 0 ? kExitOk : kExitError;
  }
  if (!action) return kExitError;
  try {
    return action();
  } catch (const std::exception& e) {
    io.err << "gitdisc: internal error: " << e.what() << "\n";
    return kExitError;
  }
}

}  // namespace gitdisc::cli
