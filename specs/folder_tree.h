// FolderTree: a RepoTree (specs/repo_tree.h) over a plain folder on disk, for
// `gitdisc validate` on a working copy, `iso build`, and tests.
//
// It shows a folder the way a commit would: symlinks are reported as kSymlink
// and never followed (not even in the middle of a path), modes are reduced to
// 0755 (any execute bit) or 0644, folders are 0755, and `.git` entries, sockets,
// FIFOs and devices are left out. Paths given to it must be relative and
// normalised (RepoTree's contract); others fail with kInvalid.
//
// The tree holds an open descriptor of its root; it is immutable and safe for
// concurrent reads. It reads the live folder, so it is a snapshot only as far
// as nobody changes the folder meanwhile.
#ifndef GITDISC_SPECS_FOLDER_TREE_H_
#define GITDISC_SPECS_FOLDER_TREE_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "specs/repo_tree.h"

namespace gitdisc::specs {

// Opens `path` (which must be a folder; it may itself be reached through a
// symlink). kNotFound when it does not exist, kInvalid when it is not a folder.
Result<std::unique_ptr<RepoTree>> OpenFolderTree(const std::string& path);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_FOLDER_TREE_H_
