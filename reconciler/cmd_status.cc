#include "reconciler/commands.h"

namespace gitdisc::cli {

Command StatusCommand() {
  return NotBuiltYet("status", "print the fleet table from a daemon (--server) or libvirt (--connect)");
}

}  // namespace gitdisc::cli
