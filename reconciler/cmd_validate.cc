#include "reconciler/commands.h"

namespace gitdisc::cli {

Command ValidateCommand() {
  return NotBuiltYet("validate", "check the specs at a revision (0 valid, 1 invalid, 2 error)");
}

}  // namespace gitdisc::cli
