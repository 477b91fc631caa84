#include "reconciler/commands.h"

namespace gitdisc::cli {

Command ReconcileCommand() {
  return NotBuiltYet("reconcile", "apply the plan until the fleet converges, fails or times out");
}

}  // namespace gitdisc::cli
