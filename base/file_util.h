// Small, careful file operations shared by the controller and the agent.
//
// WriteFileAtomic is the one way gitdisc persists state: a reader sees either
// the old content or the new, never a torn file, even across a crash or power
// loss (temp file in the same directory, fsync, rename, fsync of the directory).
// All functions are thread-compatible: they touch only the paths they are given.
#ifndef GITDISC_BASE_FILE_UTIL_H_
#define GITDISC_BASE_FILE_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gitdisc {

// Reads a whole file. Fails with kInvalid when it is larger than max_bytes,
// without reading past the limit.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = UINT64_MAX);

// Replaces path with data atomically and durably; mode applies to the new file.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);

// mkdir -p with the given mode for folders it creates.
Status MakeDirs(const std::string& path, int mode = 0755);

// Removes a file or a folder tree; a missing path is not an error.
Status RemoveAll(const std::string& path);

bool PathExists(const std::string& path);

// The names in a folder, sorted, without "." and "..". kNotFound when it is
// missing.
Result<std::vector<std::string>> ListFolder(const std::string& path);

// Joins two path parts with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

// The canonical absolute path of an existing folder (symlinks resolved,
// realpath(3)). kNotFound when missing, kInvalid when not a folder.
Result<std::string> RealFolder(const std::string& path);

}  // namespace gitdisc

#endif  // GITDISC_BASE_FILE_UTIL_H_
