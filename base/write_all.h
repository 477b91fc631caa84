// WriteAll: writes a whole buffer to a file descriptor, retrying short writes
// and EINTR, so that callers never loop over write(2) themselves.
//
// Thread-compatible: touches only the descriptor it is given.
#ifndef GITDISC_BASE_WRITE_ALL_H_
#define GITDISC_BASE_WRITE_ALL_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc {

// Writes all of `data` to `fd`. A failure is the errno Status
// "write WHAT: ...", with `what` naming the file for the reader.
Status WriteAll(int fd, std::string_view data, const std::string& what);

}  // namespace gitdisc

#endif  // GITDISC_BASE_WRITE_ALL_H_
