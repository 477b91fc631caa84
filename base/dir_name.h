// DirName: the folder part of a path, for code that writes a file next to
// another or fsyncs the folder of a file it renamed. "." when the path has no
// '/', "/" for a name right under the root; no normalisation beyond that.
//
// A pure function, thread-safe.
#ifndef GITDISC_BASE_DIR_NAME_H_
#define GITDISC_BASE_DIR_NAME_H_

#include <string>

namespace gitdisc {

std::string DirName(const std::string& path);

}  // namespace gitdisc

#endif  // GITDISC_BASE_DIR_NAME_H_
