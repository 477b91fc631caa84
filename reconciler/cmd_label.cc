#include "reconciler/commands.h"

namespace gitdisc::cli {

Command LabelCommand() {
  return NotBuiltYet("label", "set (key=value) or remove (key-) labels of a VM");
}

}  // namespace gitdisc::cli
