// Hostile discs for tests of the agent (tests only; never in a product
// library): each function takes a genuine bundle ISO written by iso/ and
// changes it the way an attacker would, in place or into a new file.
//
//  - PatchVolumeId: another label (a forged disc claiming someone else's
//    volume ID).
//  - ReplaceUniqueBytes: different file content at the same place (a
//    tampered file, same size, same directory records).
//  - PointJolietFileAt: the Joliet record of one file points at another
//    file's data, so a Joliet reader sees other bytes than the Rock Ridge
//    reader; HideRockRidgeFromLinux removes the ER entry of the root, after
//    which Linux (fs/isofs sets s_rock = 1 only on ER) mounts the Joliet
//    tree while gitdisc's reader still reads Rock Ridge.
//  - WriteJolietOnlyCopy: the same tree and volume ID written again by
//    xorriso with Joliet and without Rock Ridge.
//
// Functions are independent and thread-compatible (they touch only the
// files they are given).
#ifndef GITDISC_TESTS_SUPPORT_DISC_FORGERY_H_
#define GITDISC_TESTS_SUPPORT_DISC_FORGERY_H_

#include <string>

#include "base/status.h"

namespace gitdisc::test_support {

// Writes `volume_id` (space-padded to 32 bytes) into the primary volume
// descriptor.
Status PatchVolumeId(const std::string& iso_path, const std::string& volume_id);

// Overwrites the one occurrence of `from` in the image with `to` (same
// length). kInvalid when `from` is missing or occurs more than once.
Status ReplaceUniqueBytes(const std::string& iso_path, const std::string& from,
                          const std::string& to);

// Makes the Joliet directory record of the file named `joliet_name` (its
// last path component; must be unique among Joliet records) point at the
// data of the Rock Ridge file `target_path` ("P/app/evil.sh"), size included.
Status PointJolietFileAt(const std::string& iso_path, const std::string& joliet_name,
                         const std::string& target_path);

// Renames the root's Rock Ridge ER entry so Linux does not recognise Rock
// Ridge (and uses Joliet); gitdisc's reader ignores the unknown entry.
Status HideRockRidgeFromLinux(const std::string& iso_path);

// The tree of `src_iso` (extracted with xorriso) written again to `out_iso`
// with Joliet and ISO 9660 names only, no Rock Ridge, same volume ID.
Status WriteJolietOnlyCopy(const std::string& src_iso, const std::string& out_iso,
                           const std::string& work_dir);

}  // namespace gitdisc::test_support

#endif  // GITDISC_TESTS_SUPPORT_DISC_FORGERY_H_
