#include "iso/volume_probe.h"

#include <gtest/gtest.h>

#include "iso/iso_writer.h"
#include "iso/test_util.h"

namespace gitdisc::iso {
namespace {

using isotest::MemFile;
using isotest::TempDir;

TEST(ReadIsoVolumeId, ReadsTheVolumeIdTheWriterSet) {
  TempDir dir;
  Bundle b;
  BundlePayload p;
  p.name = "app";
  p.files = {MemFile("a", "A\n")};
  b.payloads = {p};
  auto r = WriteBundleIso(b, dir / "disc.iso");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto vid = ReadIsoVolumeId(dir / "disc.iso");
  ASSERT_TRUE(vid.ok()) << vid.status().ToString();
  EXPECT_EQ(*vid, r->volume_id);
  EXPECT_EQ(*vid, VolumeIdForDigest(r->bundle_digest));
}

TEST(ReadIsoVolumeId, NonIsoShortAndMissingAreErrors) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "zeros", std::string(64 * 1024, '\0')).ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "short", std::string(1000, 'x')).ok());
  EXPECT_EQ(ReadIsoVolumeId(dir / "zeros").status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(ReadIsoVolumeId(dir / "short").status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(ReadIsoVolumeId(dir / "nope").status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace gitdisc::iso
