#include "reconciler/commands.h"

namespace gitdisc::cli {

Command DiffCommand() {
  return NotBuiltYet("diff", "show what would change: between revisions (--base) or against the fleet (--connect)");
}

}  // namespace gitdisc::cli
