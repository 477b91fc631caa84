// FindDiscs: which of the guest's block devices hold the disc the host named
// in `apply` (DESIGN.md §5, §6).
//
// The host names a bundle digest; its disc carries the volume ID "GITDISC_" +
// the first 24 hex digits of it. Each candidate device (/dev/sr*, /dev/vd*,
// /dev/sd*: a CD-ROM or a hot-added disk) is probed cheaply for its volume ID
// (iso/volume_probe.h, one sector); only those whose volume ID matches are
// opened with the ISO reader, and only those whose manifest carries exactly
// the expected bundle digest are returned, in device order. A volume ID is
// only a label anyone can write, so the caller still verifies every byte it
// uses, and tries the next match when one fails (a forged disc in a second
// drive with the same label is never the only choice).
//
// Retries until one match is found or `retry` has passed (the first reads
// after a media change fail), listing the devices again on each pass.
//
// Thread-compatible: blocks the calling thread.
#ifndef GITDISC_GUEST_DISC_FINDER_H_
#define GITDISC_GUEST_DISC_FINDER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "iso/iso_reader.h"
#include "iso/manifest.h"

namespace gitdisc::guest {

struct FoundDisc {
  std::string device;
  std::unique_ptr<iso::IsoReader> reader;
  iso::Manifest manifest;
};

struct DiscSearch {
  std::vector<FoundDisc> found;
  // What every device that did not match held (bounded text), for the
  // refusal message when nothing matched.
  std::string problems;
};

DiscSearch FindDiscs(const std::function<std::vector<std::string>()>& list_devices,
                     const std::string& bundle_digest, std::chrono::milliseconds retry);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_DISC_FINDER_H_
