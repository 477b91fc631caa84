// libisofs glue for the bundle ISO writer (internal to iso/): the library's
// include with gitdisc's settings, one owning handle type per libisofs object
// the writer holds, its error codes as Status, and its one-time process set-up.
//
// Thread-safety: InitLibisofsOnce may be called from any thread, any number
// of times; the handles are owned by one thread like std::unique_ptr.
#ifndef GITDISC_ISO_LIBISOFS_SUPPORT_H_
#define GITDISC_ISO_LIBISOFS_SUPPORT_H_

#include <memory>
#include <string>

#include "base/c_handle.h"
#include "base/status.h"

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

namespace gitdisc::iso {

using IsoImagePtr = CHandle<IsoImage, iso_image_unref>;
using IsoWriteOptsPtr = CHandle<IsoWriteOpts, iso_write_opts_free>;

// A burn_source frees its private data through its own hook, then itself.
struct BurnSourceDeleter {
  void operator()(burn_source* p) const;
};
using BurnSourcePtr = std::unique_ptr<burn_source, BurnSourceDeleter>;

// kInternal "libisofs <what>: <libisofs' text> (<code>)".
Status IsoError(const std::string& what, int code);

// iso_init with UTF-8 node names and libisofs' own messages silenced (shown
// with GITDISC_ISO_DEBUG set); done once per process.
void InitLibisofsOnce();

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_LIBISOFS_SUPPORT_H_
