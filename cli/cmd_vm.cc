// `gitdisc vm check NAME…|--all` and `gitdisc vm prepare NAME [--cdrom-bus
// sata|ide|scsi] [--dry-run]` on the --connect hosts (default
// qemu:///system); what they do is in vm_check.h.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/fleet_session.h"
#include "cli/vm_check.h"

namespace gitdisc::cli {

Command VmCommand() {
  return Command{
      "vm", "check whether VMs can be managed, and prepare them",
      [](CLI::App* sub, const GlobalOptions* global, Io* io) {
        auto check_args = std::make_shared<VmCheckArgs>();
        auto prep_args = std::make_shared<VmPrepareArgs>();
        CLI::App* check = sub->add_subcommand(
            "check",
            "what each VM lacks to be managed (the agent channel, a CD-ROM drive with a\n"
            "tray) and which delivery methods reach it. Exit 0 all manageable, 1 some VM\n"
            "lacks something, 2 error.");
        check->add_option("NAME", check_args->names, "domain name(s)");
        check->add_flag("--all", check_args->all, "every VM on the --connect hosts");
        CLI::App* prepare = sub->add_subcommand(
            "prepare",
            "add what the VM lacks to its persistent definition (idempotent; the running\n"
            "VM gets it at its next start). Exit 0, 2 error.");
        prepare->add_option("NAME", prep_args->name, "domain name")->required();
        prepare
            ->add_option("--cdrom-bus", prep_args->options.cdrom_bus,
                         "bus of a CD-ROM drive to add (default: the bus of the VM's CD-ROM\n"
                         "drives, else sata on q35 and ide on other machines)")
            ->check(CLI::IsMember({"sata", "ide", "scsi"}));
        prepare->add_flag("--dry-run", prep_args->options.dry_run, "say what would be added");
        return std::function<int()>([=]() -> int {
          if (!check->parsed() && !prepare->parsed()) {
            io->err << "gitdisc vm: choose check or prepare\n";
            return kExitError;
          }
          auto session = OpenFleetSession(*global, false);
          if (!session.ok()) {
            io->err << "gitdisc vm: " << session.status().message() << "\n";
            return kExitError;
          }
          Provider& provider = *(*session)->provider;
          if (check->parsed()) return RunVmCheck(provider, *check_args, global->json(), *io);
          return RunVmPrepare(provider, *prep_args, global->json(), *io);
        });
      }};
}

}  // namespace gitdisc::cli
