// The agent's check of a payload copy (docs/agent.md "What apply does"): the
// folder the agent runs a payload from must hold exactly what the payload's
// manifest entry lists — nothing more, nothing less — so that what runs is
// what was hashed, whatever the disc it came from looked like.
//
// VerifyPayloadCopy walks the folder without following symbolic links and
// checks, for every entry:
//  - files: listed, regular, size, permission bits equal to the manifest's,
//    SHA-256 of the content (read through a descriptor opened O_NOFOLLOW),
//    owned by the agent's user, and not writable by group or others (a file
//    others could write could change between this check and its exec);
//  - symbolic links: listed as such, SHA-256 of the target string, and the
//    target resolves inside the folder (base/symlink_path.h);
//  - folders: implied by a listed path, owned by the agent's user, not
//    writable by group or others (the folder itself too);
//  - nothing else: no extra file, folder, device, FIFO or socket; no listed
//    file missing.
// Any problem: kCorrupt, naming the paths and reasons (bounded text).
//
// A pure function over the file system; thread-safe.
#ifndef GITDISC_GUEST_PAYLOAD_COPY_H_
#define GITDISC_GUEST_PAYLOAD_COPY_H_

#include <string>

#include "base/status.h"
#include "iso/manifest.h"

namespace gitdisc::guest {

Status VerifyPayloadCopy(const std::string& dir, const iso::ManifestPayload& payload);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PAYLOAD_COPY_H_
