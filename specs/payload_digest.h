// Payload identity (DESIGN.md §3): the digest a VM's ledger records for an
// applied payload, and the content digest of a payload's file list.
//
// Canonical encoding (the same bytes iso::ComputePayloadDigest hashes, so a
// disc's manifest can be checked against it): SHA-256 of the compact JSON
// (no spaces, keys sorted bytewise, UTF-8, integers in decimal) of
//   {"env":{K:V,…},"files":[{"mode":M,"path":P,"sha256":H},…],"name":N,
//    "reboot":"never"|"ifRequested"|"always","run":[…],"version":V}
// where files are sorted by path (bytewise), M is the POSIX mode with type
// bits as a decimal integer (0100644 → 33188, 0100755 → 33261, symlink
// 0120777 → 41471) and H is the SHA-256 of the content (of the target string
// for a symlink). `timeout` and `after` are deliberately not part of the
// identity: changing them does not re-apply a payload. docs/git-source.md
// has a worked example.
//
// Pure functions; thread-safe.
#ifndef GITDISC_SPECS_PAYLOAD_DIGEST_H_
#define GITDISC_SPECS_PAYLOAD_DIGEST_H_

#include <string>
#include <vector>

#include "specs/payload_content.h"
#include "specs/spec_types.h"

namespace gitdisc::specs {

// The canonical JSON text described above (what gets hashed).
std::string PayloadIdentityEncoding(const Payload& payload, const std::vector<PayloadFile>& files);
// SHA-256 (64 lower-case hex) of PayloadIdentityEncoding.
std::string PayloadDigest(const Payload& payload, const std::vector<PayloadFile>& files);
// SHA-256 of the compact JSON array of files alone ([{"mode","path","sha256"}…],
// sorted by path): equal when two payloads carry the same bytes, names and
// modes. Used by `diff` to tell "content changed without a version bump".
std::string ContentDigest(const std::vector<PayloadFile>& files);

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_PAYLOAD_DIGEST_H_
