// The libisofs stream class that feeds a bundle ISO (internal to iso/). A
// file stream reads one bundle file through its FileReader, hashes it on the
// way and checks it against the declared size and sha256, recording the
// digest in its BuildState slot; the manifest stream renders the manifest
// when libisofs reaches it (it is the last file of the data area, so every
// digest is known by then) and serves that text. Every failure goes to
// BuildState::Fail and makes libisofs stop with a read error.
//
// Streams are identified to libisofs by their serial number, which must be
// unique within one image and follow the data order.
//
// Thread-safety: libisofs calls a stream from its writer thread only; the
// BuildState must outlive every stream of the build.
#ifndef GITDISC_ISO_BUNDLE_STREAM_H_
#define GITDISC_ISO_BUNDLE_STREAM_H_

#include <cstddef>
#include <cstdint>

#include "iso/image_build_state.h"
#include "iso/libisofs_support.h"

namespace gitdisc::iso {

// A new stream (one reference, the caller's: pass it to libisofs, or drop it
// with iso_stream_unref) for the file of `slot`, `size` bytes long; nullptr
// when out of memory.
IsoStream* NewFileStream(BuildState* state, size_t slot, uint64_t serial, uint64_t size);

// A new stream for the manifest, state->manifest_size bytes long.
IsoStream* NewManifestStream(BuildState* state, uint64_t serial);

}  // namespace gitdisc::iso

#endif  // GITDISC_ISO_BUNDLE_STREAM_H_
