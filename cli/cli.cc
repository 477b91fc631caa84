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

namespace {

void AddGlobalOptions(CLI::App* app, GlobalOptions* g) {
  const char* group = "Global options (before or after the command)";
  app->add_option("--repo", g->repo, "Git repository: a local path or a URL (default: .)")
      ->group(group);
  app->add_option("--branch", g->branch, "branch to follow (default: the remote's HEAD)")
      ->group(group);
  app->add_option("--rev", g->rev, "revision to read (default: the branch tip)")->group(group);
  app->add_option("--path", g->path, "folder of the specs inside the repo (default: root)")
      ->group(group);
  app->add_option("--connect", g->connect,
                  "hypervisor connection URI, repeatable: a libvirt URI such as\n"
                  "qemu:///system or qemu+ssh://host/system, or\n"
                  "vsphere://USER@HOST/DATACENTER?passwordFile=F (default for reconcile,\n"
                  "status and label: $LIBVIRT_DEFAULT_URI, else qemu:///system)")
      ->group(group);
  app->add_option("-o,--output", g->output, "output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->group(group);
  app->add_option("--state-dir", g->state_dir,
                  "state folder (default /var/lib/gitdisc, or $XDG_STATE_HOME/gitdisc)")
      ->group(group);
  app->add_flag("-v,--verbose", g->verbose, "say more")->group(group);
  app->add_option("--allowed-signers", g->allowed_signers,
                  "only commits signed by these SSH keys (git's allowed_signers format) count")
      ->group(group);
  app->add_option("--gpg-keyring", g->gpg_keyring,
                  "only commits signed by these OpenPGP keys (gpg --export) count")
      ->group(group);
  app->add_option("--verify-mode", g->verify_mode,
                  "with --allowed-signers/--gpg-keyring: the commit to apply must be signed\n"
                  "(tip, default), or every commit since the last verified one (all)")
      ->check(CLI::IsMember({"tip", "all"}))
      ->group(group);
  app->add_option("--artifact-root", g->artifact_roots,
                  "folder file: artifacts may come from (repeatable; none: file: artifacts are "
                  "refused)")
      ->group(group);
  app->add_flag("--allow-http-artifacts", g->allow_http_artifacts,
                "fetch url: artifacts over plain http:// too (default: https:// only)")
      ->group(group);
}

}  // namespace

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
  AddGlobalOptions(&app, &global);
  app.set_version_flag("--version", std::string("gitdisc ") + GITDISC_VERSION);

  std::function<int()> action;
  for (const Command& cmd : Commands()) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
    // The same options again on every subcommand, so that `gitdisc COMMAND
    // --help` shows them and they may follow the command name.
    AddGlobalOptions(sub, &global);
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
