// Keeping symbolic links inside a payload folder: the rule gitdisc applies
// when it reads a payload from Git (specs/) and again, on the disc, before
// the agent runs anything (guest/).
#ifndef GITDISC_BASE_SYMLINK_PATH_H_
#define GITDISC_BASE_SYMLINK_PATH_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace gitdisc {

// Resolves `target` (a symlink stored at `link`, both relative to a folder)
// lexically inside that folder, following the other links of the folder in
// `links` (path → target). Returns the resolved path relative to the folder;
// kInvalid, naming the link, when it is absolute, leaves the folder (also
// through another link) or loops.
Result<std::string> ResolveSymlinkInFolder(
    std::string_view link, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& links);

}  // namespace gitdisc

#endif  // GITDISC_BASE_SYMLINK_PATH_H_
