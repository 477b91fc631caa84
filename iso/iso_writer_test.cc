#include "iso/iso_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>

#include "base/sha256.h"
#include "iso/manifest.h"
#include "iso/test_util.h"

#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>  // iso_nowtime: pretend another "now"

namespace gitdisc::iso {
namespace {

using isotest::Link;
using isotest::MemFile;
using isotest::RunShell;
using isotest::ShellQuote;
using isotest::Slurp;
using isotest::TempDir;

Bundle SmallBundle(bool with_digests) {
  Bundle b;
  b.revision = "abc123";
  b.source_date_epoch = 1700000000;
  BundlePayload motd;
  motd.name = "motd";
  motd.version = "2";
  motd.run = {"./install.sh"};
  motd.env = {{"GREETING", "hello"}};
  motd.files.push_back(MemFile("install.sh", "#!/bin/sh\necho hi\n", 0755, with_digests));
  motd.files.push_back(MemFile("etc/motd", "Welcome\n", 0644, with_digests));
  motd.files.push_back(MemFile("empty", "", 0644, with_digests));
  motd.files.push_back(Link("link", "etc/motd"));
  BundlePayload other;
  other.name = "other";
  other.version = "1";
  other.files.push_back(MemFile("a b/c d.txt", "spaces\n", 0600, with_digests));
  b.payloads = {motd, other};
  if (with_digests) {
    // The caller's digests (as the Git source would provide them).
    for (BundlePayload& p : b.payloads) {
      for (BundleFile& f : p.files) {
        if (f.is_symlink()) f.sha256 = Sha256Hex(f.symlink_target);
      }
      p.digest = ComputePayloadDigest(p);
    }
  }
  return b;
}

TEST(IsoWriter, WritesManifestVolumeIdAndFiles) {
  TempDir dir;
  auto r = WriteBundleIso(SmallBundle(false), dir / "out.iso");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->volume_id, "GITDISC_" + r->bundle_digest.substr(0, 24));
  EXPECT_EQ(r->manifest.digest, r->bundle_digest);
  ASSERT_EQ(r->manifest.payloads.size(), 2u);
  const ManifestPayload* motd = r->manifest.FindPayload("motd");
  ASSERT_NE(motd, nullptr);
  bool saw_install = false;
  for (const ManifestFile& f : motd->files) {
    if (f.path == "install.sh") {
      saw_install = true;
      EXPECT_EQ(f.mode, 0100755u);
      EXPECT_EQ(f.sha256, Sha256Hex("#!/bin/sh\necho hi\n"));
    }
    if (f.path == "link") {
      EXPECT_EQ(f.mode, 0120777u);
    }
  }
  EXPECT_TRUE(saw_install);

  // xorriso reads it, and sees the bundle's volume ID and Rock Ridge names.
  std::string out;
  ASSERT_EQ(RunShell("xorriso -indev " + ShellQuote(dir / "out.iso") +
                         " -pvd_info -find / -exec lsdl 2>&1",
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("Volume Id    : " + r->volume_id), std::string::npos) << out;
  EXPECT_NE(out.find("'/P/other/a b/c d.txt'"), std::string::npos) << out;
  EXPECT_NE(out.find("-> 'etc/motd'"), std::string::npos) << out;
  EXPECT_NE(out.find("/GITDISC.JSN"), std::string::npos) << out;

  // The manifest on the disc is the one returned, byte for byte.
  ASSERT_EQ(RunShell("xorriso -osirrox on -indev " + ShellQuote(dir / "out.iso") +
                     " -extract /GITDISC.JSN " + ShellQuote(dir / "m.json") + " >/dev/null 2>&1"),
            0);
  EXPECT_EQ(Slurp(dir / "m.json"), RenderManifest(r->manifest));
  auto parsed = ParseManifest(Slurp(dir / "m.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, r->manifest);
}

TEST(IsoWriter, KnownAndUnknownDigestsGiveIdenticalBytes) {
  TempDir dir;
  auto a = WriteBundleIso(SmallBundle(false), dir / "a.iso");
  auto b = WriteBundleIso(SmallBundle(true), dir / "b.iso");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->bundle_digest, b->bundle_digest);
  EXPECT_EQ(a->bundle_digest, *KnownBundleDigest(SmallBundle(true)));
  EXPECT_TRUE(Slurp(dir / "a.iso") == Slurp(dir / "b.iso"));
  if (getenv("GITDISC_ISO_DEBUG")) RunShell("cp " + dir.path() + "/*.iso /tmp/iso-ref/");
}

TEST(IsoWriter, SameBundleSameBytesWhateverTheClockAndZone) {
  TempDir dir;
  ASSERT_TRUE(WriteBundleIso(SmallBundle(false), dir / "a.iso").ok());
  // If libisofs stamped "now" or a local time anywhere, a different notion
  // of now/zone would show in the bytes.
  time_t fake_now = 2000000000;
  iso_nowtime(&fake_now, 1);
  setenv("TZ", "America/New_York", 1);
  tzset();
  ASSERT_TRUE(WriteBundleIso(SmallBundle(false), dir / "b.iso").ok());
  unsetenv("TZ");
  tzset();
  iso_nowtime(&fake_now, 2);
  EXPECT_TRUE(Slurp(dir / "a.iso") == Slurp(dir / "b.iso"));
}

TEST(IsoWriter, DifferentEpochChangesOnlyTimes) {
  TempDir dir;
  Bundle b1 = SmallBundle(false);
  Bundle b2 = SmallBundle(false);
  b2.source_date_epoch = 1600000000;
  auto r1 = WriteBundleIso(b1, dir / "a.iso");
  auto r2 = WriteBundleIso(b2, dir / "b.iso");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->bundle_digest, r2->bundle_digest);
  EXPECT_FALSE(Slurp(dir / "a.iso") == Slurp(dir / "b.iso"));
}

TEST(IsoWriter, DigestMismatchFailsAndLeavesNothing) {
  TempDir dir;
  Bundle b = SmallBundle(false);
  b.payloads[0].files[0].sha256 = Sha256Hex("something else");
  auto r = WriteBundleIso(b, dir / "out.iso");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(r.status().message().find("install.sh"), std::string::npos) << r.status().ToString();
  std::string listing;
  RunShell("ls -A " + ShellQuote(dir.path()), &listing);
  EXPECT_EQ(listing, "");
}

TEST(IsoWriter, SizeMismatchFails) {
  TempDir dir;
  Bundle b = SmallBundle(false);
  b.payloads[0].files[1].size += 5;  // the reader delivers fewer bytes
  auto r = WriteBundleIso(b, dir / "short.iso");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("shorter"), std::string::npos) << r.status().ToString();
  Bundle c = SmallBundle(false);
  c.payloads[0].files[1].size -= 1;  // the reader delivers more bytes
  r = WriteBundleIso(c, dir / "long.iso");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("longer"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(PathExists(dir / "short.iso"));
  EXPECT_FALSE(PathExists(dir / "long.iso"));
}

TEST(IsoWriter, OpenFailureFails) {
  TempDir dir;
  Bundle b = SmallBundle(false);
  b.payloads[1].files[0].open = []() -> Result<std::unique_ptr<FileReader>> {
    return Status::NotFound("gone");
  };
  auto r = WriteBundleIso(b, dir / "out.iso");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("c d.txt"), std::string::npos);
  EXPECT_FALSE(PathExists(dir / "out.iso"));
}

TEST(IsoWriter, RejectsInvalidBundles) {
  TempDir dir;
  Bundle b = SmallBundle(false);
  b.payloads[0].name = "../evil";
  EXPECT_EQ(WriteBundleIso(b, dir / "x.iso").status().code(), Status::Code::kInvalid);
  b = SmallBundle(false);
  b.payloads[0].files[0].path = "a/../b";
  EXPECT_EQ(WriteBundleIso(b, dir / "x.iso").status().code(), Status::Code::kInvalid);
  b = SmallBundle(false);
  b.payloads[0].files.push_back(MemFile("etc/motd/x", "y"));
  EXPECT_EQ(WriteBundleIso(b, dir / "x.iso").status().code(), Status::Code::kInvalid);
  b = SmallBundle(false);
  b.payloads[0].files[0].mode = 04755;
  EXPECT_EQ(WriteBundleIso(b, dir / "x.iso").status().code(), Status::Code::kInvalid);
}

TEST(IsoWriter, IsoLevelThreeOnlyForHugeFiles) {
  Bundle b = SmallBundle(false);
  EXPECT_EQ(IsoLevelFor(b), 2);
  b.payloads[0].files[1].size = (4ull << 30) - 1;
  EXPECT_EQ(IsoLevelFor(b), 2);
  b.payloads[0].files[1].size = 4ull << 30;
  EXPECT_EQ(IsoLevelFor(b), 3);
}

TEST(IsoWriter, VolumeUuidIsDigitsFromDigest) {
  EXPECT_EQ(VolumeUuidForDigest("0123456789abcdef0000"), "0123456789012345");
}

}  // namespace
}  // namespace gitdisc::iso
