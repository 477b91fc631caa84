#include "reconciler/commands.h"

namespace gitdisc::cli {

Command IsoCommand() {
  return NotBuiltYet("iso", "build or verify bundle ISO images");
}

}  // namespace gitdisc::cli
