#include "iso/libisofs_support.h"

#include <cstdlib>
#include <mutex>

namespace gitdisc::iso {

void BurnSourceDeleter::operator()(burn_source* p) const {
  p->free_data(p);
  free(p);
}

Status IsoError(const std::string& what, int code) {
  const char* text = iso_error_to_msg(code);
  return Status::Internal("libisofs " + what + ": " + (text ? text : "error") + " (" +
                          std::to_string(code) + ")");
}

void InitLibisofsOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    iso_init();
    // Node names are UTF-8 whatever the process locale; libisofs converts
    // from its "local" charset, so that is declared once for the process.
    iso_set_local_charset(const_cast<char*>("UTF-8"), 0);
    // Failures reach gitdisc through return codes and our own stream state;
    // libisofs must not print to stderr on its own.
    iso_set_msgs_severities(const_cast<char*>("NEVER"),
                            const_cast<char*>(getenv("GITDISC_ISO_DEBUG") ? "ALL" : "NEVER"),
                            const_cast<char*>("gitdisc"));
  });
}

}  // namespace gitdisc::iso
