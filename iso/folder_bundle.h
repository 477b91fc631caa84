// Payloads from plain folders on disk, for `gitdisc iso build DIR...` and
// tests: every regular file and symlink below the folder, recursively, in
// sorted order. Symlinks are stored as symlinks (never followed); other file
// types (devices, sockets, FIFOs) are refused. File digests are left empty:
// the writer computes them while streaming, in one pass.
//
// Thread-compatible: reads only the given folder.
#ifndef GITDISC_ISO_FOLDER_BUNDLE_H_
#define GITDISC_ISO_FOLDER_BUNDLE_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "iso/bundle.h"

namespace gitdisc::iso {

struct FolderPayloadOptions {
  std::string name;  // empty: the folder's basename
  std::string version = "0";
  // The payload's run argv; "./install.sh" is used only when that file
  // exists in the folder (otherwise the payload runs nothing).
  std::vector<std::string> run = {"./install.sh"};
};

Result<BundlePayload> PayloadFromFolder(const std::string& dir,
                                        const FolderPayloadOptions& options = {});

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_FOLDER_BUNDLE_H_
