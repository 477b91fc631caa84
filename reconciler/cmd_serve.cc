#include "reconciler/commands.h"

namespace gitdisc::cli {

Command ServeCommand() {
  return NotBuiltYet("serve", "run the daemon: poll, webhooks, API, metrics, status page");
}

}  // namespace gitdisc::cli
