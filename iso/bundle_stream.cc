#include "iso/bundle_stream.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "base/sha256.h"

// libisofs hides `struct iso_stream` from C++ (its member is named `class`).
// Its layout is public, stable C ABI; complete the type here so gitdisc can
// implement its own stream class. libisofs frees the struct with free().
struct iso_stream {
  IsoStreamIface* klass;
  int refcount;
  void* data;
};

namespace gitdisc::iso {
namespace {

constexpr unsigned int kStreamFsId = 0x47444953;  // "GDIS"

struct StreamData {
  BuildState* state = nullptr;
  bool is_manifest = false;
  size_t slot = 0;
  uint64_t serial = 0;
  uint64_t size = 0;
  // File streams.
  std::unique_ptr<FileReader> reader;
  Sha256Hasher hasher;
  uint64_t pos = 0;
  std::unique_ptr<char[]> buf;
  size_t buf_len = 0, buf_pos = 0;
  bool eof = false;
};

constexpr size_t kReadChunk = 1 << 20;

StreamData* Data(IsoStream* s) { return static_cast<StreamData*>(s->data); }

void FinishFile(StreamData* d) {
  BuildState* st = d->state;
  Slot& slot = st->slots[d->slot];
  if (slot.done) return;
  std::string digest = d->hasher.FinishHex();
  const BundleFile& f = st->bundle->payloads[slot.payload].files[slot.file];
  if (!f.sha256.empty() && f.sha256 != digest) {
    st->Fail(Status::Corrupt(Where(*st, slot) + ": content has sha256 " + digest + ", expected " +
                             f.sha256));
  }
  slot.digest = std::move(digest);
  slot.done = true;
}

int StreamOpen(IsoStream* s) {
  StreamData* d = Data(s);
  BuildState* st = d->state;
  if (d->is_manifest) {
    // Every file precedes the manifest in the data area, so every digest is
    // known by now; anything else is a bug or an earlier failure.
    for (const Slot& slot : st->slots) {
      if (!slot.done) {
        st->Fail(Status::Internal("manifest reached before " + Where(*st, slot) + " was written"));
        return static_cast<int>(ISO_FILE_ERROR);
      }
    }
    st->manifest = BuildManifest(*st);
    st->manifest_text = RenderManifest(st->manifest);
    st->bundle_digest = st->manifest.digest;
    if (st->manifest_text.size() != st->manifest_size) {
      st->Fail(Status::Internal("manifest length changed while building"));
      return static_cast<int>(ISO_FILE_ERROR);
    }
    d->pos = 0;
    return 1;
  }
  const Slot& slot = st->slots[d->slot];
  const BundleFile& f = st->bundle->payloads[slot.payload].files[slot.file];
  auto reader = f.open();
  if (!reader.ok()) {
    st->Fail(reader.status().Annotate(Where(*st, slot)));
    return static_cast<int>(ISO_FILE_ERROR);
  }
  d->reader = std::move(reader).value();
  d->pos = 0;
  d->eof = false;
  d->buf_len = d->buf_pos = 0;
  if (!d->buf) d->buf = std::make_unique_for_overwrite<char[]>(kReadChunk);
  return 1;
}

int StreamClose(IsoStream* s) {
  StreamData* d = Data(s);
  if (!d->is_manifest) {
    d->reader.reset();
    d->buf.reset();
  }
  return 1;
}

off_t StreamSize(IsoStream* s) { return static_cast<off_t>(Data(s)->size); }

int StreamRead(IsoStream* s, void* out, size_t count) {
  StreamData* d = Data(s);
  BuildState* st = d->state;
  if (st->failed) return static_cast<int>(ISO_FILE_READ_ERROR);
  if (d->is_manifest) {
    size_t k = std::min(count, st->manifest_text.size() - d->pos);
    std::memcpy(out, st->manifest_text.data() + d->pos, k);
    d->pos += k;
    return static_cast<int>(k);
  }
  const Slot& slot = st->slots[d->slot];
  char* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < count) {
    if (d->buf_pos == d->buf_len) {
      if (d->eof) break;
      auto got = d->reader->Read(d->buf.get(), kReadChunk);
      if (!got.ok()) {
        st->Fail(got.status().Annotate(Where(*st, slot)));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      if (*got == 0) {
        d->eof = true;
        break;
      }
      if (d->pos + *got > d->size) {
        st->Fail(Status::Corrupt(Where(*st, slot) + ": longer than its declared " +
                                 std::to_string(d->size) + " bytes"));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      d->hasher.Update(d->buf.get(), *got);
      d->pos += *got;
      d->buf_len = *got;
      d->buf_pos = 0;
    }
    size_t k = std::min(count - done, d->buf_len - d->buf_pos);
    std::memcpy(dst + done, d->buf.get() + d->buf_pos, k);
    d->buf_pos += k;
    done += k;
  }
  if (d->pos == d->size && d->buf_pos == d->buf_len) {
    // All declared bytes are in; one more read must report end of data.
    if (!d->eof) {
      char probe;
      auto got = d->reader->Read(&probe, 1);
      if (!got.ok() || *got != 0) {
        st->Fail(Status::Corrupt(Where(*st, slot) + ": longer than its declared " +
                                 std::to_string(d->size) + " bytes"));
        return static_cast<int>(ISO_FILE_READ_ERROR);
      }
      d->eof = true;
    }
    FinishFile(d);
  } else if (d->eof && done == 0) {
    st->Fail(Status::Corrupt(Where(*st, slot) + ": shorter than its declared " +
                             std::to_string(d->size) + " bytes"));
    return static_cast<int>(ISO_FILE_READ_ERROR);
  }
  return static_cast<int>(done);
}

int StreamRepeatable(IsoStream*) { return 0; }

void StreamGetId(IsoStream* s, unsigned int* fs_id, dev_t* dev_id, ino_t* ino_id) {
  *fs_id = kStreamFsId;
  *dev_id = 0;
  *ino_id = static_cast<ino_t>(Data(s)->serial);
}

// Takes back the ownership NewStream gave libisofs.
void StreamFree(IsoStream* s) { std::unique_ptr<StreamData>(Data(s)).reset(); }

int StreamUpdateSize(IsoStream*) { return 1; }

IsoStream* StreamInput(IsoStream*, int) { return nullptr; }

int StreamCmpIno(IsoStream* a, IsoStream* b) {
  uint64_t x = Data(a)->serial, y = Data(b)->serial;
  return x < y ? -1 : (x > y ? 1 : 0);
}

IsoStreamIface kStreamClass = {
    3,           {'u', 's', 'e', 'r'}, StreamOpen,  StreamClose, StreamSize,
    StreamRead,  StreamRepeatable,     StreamGetId, StreamFree,  StreamUpdateSize,
    StreamInput, StreamCmpIno,         nullptr,
};

IsoStream* NewStream(std::unique_ptr<StreamData> data) {
  auto* s = static_cast<IsoStream*>(std::malloc(sizeof(IsoStream)));
  if (!s) return nullptr;
  s->klass = &kStreamClass;
  s->refcount = 1;
  s->data = data.release();
  return s;
}

}  // namespace

IsoStream* NewFileStream(BuildState* state, size_t slot, uint64_t serial, uint64_t size) {
  auto data = std::make_unique<StreamData>();
  data->state = state;
  data->slot = slot;
  data->serial = serial;
  data->size = size;
  return NewStream(std::move(data));
}

IsoStream* NewManifestStream(BuildState* state, uint64_t serial) {
  auto data = std::make_unique<StreamData>();
  data->state = state;
  data->is_manifest = true;
  data->serial = serial;
  data->size = state->manifest_size;
  return NewStream(std::move(data));
}

}  // namespace gitdisc::iso
