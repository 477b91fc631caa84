// Files >= 4 GiB: ISO level 3 with multi-extent files, written by libisofs and
// read back by gitdisc's reader and by xorriso. Needs ~5 GiB of free space in
// $TMPDIR; with less it is skipped with that reason (documented in
// docs/iso.md), never silently passed.
#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <cstring>

#include "base/file_util.h"
#include "iso/iso_reader.h"
#include "iso/iso_writer.h"
#include "iso/test_util.h"

namespace gitdisc::iso {
namespace {

constexpr uint64_t kBig = (4ull << 30) + 4097;  // just over 4 GiB, not block aligned

// kBig bytes: zeros, then "END" as the last three bytes; no disk needed.
class PatternReader final : public FileReader {
 public:
  Result<size_t> Read(char* buf, size_t n) override {
    uint64_t left = kBig - pos_;
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, left));
    std::memset(buf, 0, k);
    for (size_t i = 0; i < k; ++i) {
      uint64_t at = pos_ + i;
      if (at >= kBig - 3) buf[i] = "END"[at - (kBig - 3)];
    }
    pos_ += k;
    return k;
  }

 private:
  uint64_t pos_ = 0;
};

TEST(LargeFile, OverFourGiBUsesMultiExtentAndReadsBack) {
  isotest::TempDir dir;
  struct statvfs vfs;
  ASSERT_EQ(::statvfs(dir.path().c_str(), &vfs), 0);
  uint64_t free_bytes = uint64_t(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes < (6ull << 30)) {
    GTEST_SKIP() << "needs 6 GiB free in " << dir.path() << ", has " << (free_bytes >> 20)
                 << " MiB";
  }
  Bundle b;
  BundlePayload p;
  p.name = "big";
  BundleFile f;
  f.path = "huge.bin";
  f.size = kBig;
  f.open = []() -> Result<std::unique_ptr<FileReader>> {
    return std::unique_ptr<FileReader>(new PatternReader());
  };
  p.files = {f, isotest::MemFile("small.txt", "small\n")};
  b.payloads = {p};
  ASSERT_EQ(IsoLevelFor(b), 3);
  auto w = WriteBundleIso(b, dir / "big.iso");
  ASSERT_TRUE(w.ok()) << w.status().ToString();

  auto r = IsoReader::Open(dir / "big.iso");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const IsoEntry* e = (*r)->Find("P/big/huge.bin");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->size, kBig);
  EXPECT_GE(e->extents.size(), 2u);
  auto report = (*r)->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok());

  std::string out;
  ASSERT_EQ(isotest::RunShell("xorriso -indev " + isotest::ShellQuote(dir / "big.iso") +
                                  " -find /P/big -name huge.bin -exec lsdl 2>/dev/null",
                              &out),
            0);
  EXPECT_NE(out.find(std::to_string(kBig)), std::string::npos) << out;
}

}  // namespace
}  // namespace gitdisc::iso
