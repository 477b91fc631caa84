#include "guest/disc_finder.h"

#include <algorithm>
#include <thread>

#include "iso/bundle.h"
#include "iso/volume_probe.h"

namespace gitdisc::guest {
namespace {

constexpr size_t kMaxProblemBytes = 1500;

// One look at every device.
DiscSearch SearchOnce(const std::vector<std::string>& devices, const std::string& digest) {
  DiscSearch out;
  std::string want = iso::VolumeIdForDigest(digest);
  auto note = [&](const std::string& what) {
    if (out.problems.size() + what.size() < kMaxProblemBytes) {
      out.problems += (out.problems.empty() ? "" : "; ") + what;
    }
  };
  if (devices.empty()) note("no disc device");
  for (const auto& dev : devices) {
    auto vid = iso::ReadIsoVolumeId(dev);
    if (!vid.ok()) {
      note(vid.status().message());
      continue;
    }
    if (*vid != want) {
      note(dev + " holds volume " + (vid->empty() ? "(no label)" : *vid) + ", not the expected " +
           want);
      continue;
    }
    auto reader = iso::IsoReader::Open(dev);
    if (!reader.ok()) {
      note(dev + ": " + reader.status().message());
      continue;
    }
    auto manifest = (*reader)->ReadManifest();
    if (!manifest.ok()) {
      note(dev + ": " + manifest.status().message());
      continue;
    }
    if (manifest->digest != digest) {
      note(dev + " holds bundle " + manifest->digest + " under volume " + want +
           ", not the expected " + digest);
      continue;
    }
    out.found.push_back(FoundDisc{dev, std::move(*reader), std::move(*manifest)});
  }
  return out;
}

}  // namespace

DiscSearch FindDiscs(const std::function<std::vector<std::string>()>& list_devices,
                     const std::string& bundle_digest, std::chrono::milliseconds retry) {
  auto deadline = std::chrono::steady_clock::now() + retry;
  // The first read after a media change fails once (unit attention) and a
  // retry right away usually succeeds: wait 10 ms first, doubling to 200 ms.
  auto wait = std::chrono::milliseconds(10);
  for (;;) {
    DiscSearch s = SearchOnce(list_devices(), bundle_digest);
    if (!s.found.empty() || std::chrono::steady_clock::now() >= deadline) return s;
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(200));
  }
}

}  // namespace gitdisc::guest
