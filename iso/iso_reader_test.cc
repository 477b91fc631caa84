#include "iso/iso_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "base/sha256.h"
#include "iso/folder_bundle.h"
#include "iso/iso_writer.h"
#include "iso/test_util.h"

namespace gitdisc::iso {
namespace {

using isotest::Link;
using isotest::MemFile;
using isotest::RunShell;
using isotest::ShellQuote;
using isotest::Slurp;
using isotest::TempDir;

void WriteFile(const std::string& path, const std::string& data, int mode = 0644) {
  std::string dir = path.substr(0, path.rfind('/'));
  ASSERT_TRUE(MakeDirs(dir).ok());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  ::chmod(path.c_str(), mode);
}

// A tree with everything the issue lists: spaces, unicode, 200-character
// names, empty files, executables, symlinks, a 30-level deep path, 3000 files.
void MakeNastyTree(const std::string& root) {
  WriteFile(root + "/install.sh", "#!/bin/sh\necho installing\n", 0755);
  WriteFile(root + "/name with spaces.txt", "spaces\n");
  WriteFile(root + "/ünïcödé ☃ 日本語.txt", "unicode\n");
  WriteFile(root + "/" + std::string(200, 'L'), "long name\n");
  WriteFile(root + "/dir/" + std::string(180, 'x') + "/" + std::string(199, 'y') + ".bin",
            "deep long\n");
  WriteFile(root + "/empty", "");
  WriteFile(root + "/private", "secret\n", 0600);
  std::string deep = root;
  for (int i = 0; i < 30; ++i) deep += "/level" + std::to_string(i);
  WriteFile(deep + "/bottom.txt", "bottom\n");
  for (int i = 0; i < 3000; ++i) {
    WriteFile(root + "/many/f" + std::to_string(i), "file " + std::to_string(i) + "\n");
  }
  ASSERT_EQ(::symlink("install.sh", (root + "/link-rel").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (root + "/link-abs").c_str()), 0);
  ASSERT_EQ(::symlink("../many/f1", (root + "/dir/link-up").c_str()), 0);
  ASSERT_EQ(::symlink(std::string(150, 'T').c_str(), (root + "/link-long").c_str()), 0);
}

// One image for the whole suite: building the 3000-file tree is the slow part.
class RoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { shared_ = new Shared(); }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(shared_->ok) << "fixture setup failed"; }

  struct Shared {
    Shared() { Build(); }
    void Build();
    TempDir dir_;
    std::string iso_ = dir_ / "bundle.iso";
    Bundle bundle_;
    IsoWriteResult result_;
    bool ok = false;
  };
  static Shared* shared_;
  TempDir& dir_ = shared_->dir_;
  std::string& iso_ = shared_->iso_;
  Bundle& bundle_ = shared_->bundle_;
  IsoWriteResult& result_ = shared_->result_;
};
RoundTrip::Shared* RoundTrip::shared_ = nullptr;

void RoundTrip::Shared::Build() {
  {
    MakeNastyTree(dir_ / "src/nasty");
    ASSERT_TRUE(MakeDirs(dir_ / "src/empty-payload").ok());
    auto nasty = PayloadFromFolder(dir_ / "src/nasty");
    auto empty = PayloadFromFolder(dir_ / "src/empty-payload");
    ASSERT_TRUE(nasty.ok()) << nasty.status().ToString();
    ASSERT_TRUE(empty.ok()) << empty.status().ToString();
    bundle_.revision = "folders";
    bundle_.payloads = {*nasty, *empty};
    auto r = WriteBundleIso(bundle_, iso_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    result_ = *r;
    ok = true;
  }
}

TEST_F(RoundTrip, OurReaderVerifiesAndListsEverything) {
  auto reader = IsoReader::Open(iso_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->volume_id(), result_.volume_id);
  auto report = (*reader)->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& p : report->mismatches) ADD_FAILURE() << p.path << ": " << p.reason;
  for (const auto& p : report->missing) ADD_FAILURE() << p.path << ": " << p.reason;
  for (const auto& p : report->extra) ADD_FAILURE() << p.path << ": " << p.reason;
  EXPECT_TRUE(report->ok());

  const IsoEntry* longname = (*reader)->Find("P/nasty/" + std::string(200, 'L'));
  ASSERT_NE(longname, nullptr);
  EXPECT_EQ(longname->type, IsoEntry::Type::kFile);
  const IsoEntry* exe = (*reader)->Find("P/nasty/install.sh");
  ASSERT_NE(exe, nullptr);
  EXPECT_EQ(exe->mode, 0100755u);
  const IsoEntry* priv = (*reader)->Find("P/nasty/private");
  ASSERT_NE(priv, nullptr);
  EXPECT_EQ(priv->mode, 0100600u);
  const IsoEntry* link = (*reader)->Find("P/nasty/dir/link-up");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, IsoEntry::Type::kSymlink);
  EXPECT_EQ(link->symlink_target, "../many/f1");
  EXPECT_EQ((*reader)->Find("P/nasty/link-abs")->symlink_target, "/etc/passwd");
  EXPECT_EQ((*reader)->Find("P/nasty/link-long")->symlink_target, std::string(150, 'T'));
  const IsoEntry* empty_payload = (*reader)->Find("P/empty-payload");
  ASSERT_NE(empty_payload, nullptr);
  EXPECT_EQ(empty_payload->type, IsoEntry::Type::kDir);
  auto text = (*reader)->ReadFileToString("P/nasty/ünïcödé ☃ 日本語.txt", 100);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "unicode\n");
}

TEST_F(RoundTrip, ExtractPayloadReproducesTheFolder) {
  auto reader = IsoReader::Open(iso_);
  ASSERT_TRUE(reader.ok());
  auto manifest = (*reader)->ReadManifest();
  ASSERT_TRUE(manifest.ok());
  ASSERT_TRUE((*reader)->ExtractPayload(*manifest, "nasty", dir_ / "out").ok());
  std::string diff;
  EXPECT_EQ(RunShell("diff -r --no-dereference " + ShellQuote(dir_ / "src/nasty") + " " +
                         ShellQuote(dir_ / "out") + " 2>&1",
                     &diff),
            0)
      << diff;
  std::string modes_src, modes_out;
  RunShell(
      "cd " + ShellQuote(dir_ / "src/nasty") + " && find . ! -type d -printf '%p %m %y\\n' | sort",
      &modes_src);
  RunShell("cd " + ShellQuote(dir_ / "out") + " && find . ! -type d -printf '%p %m %y\\n' | sort",
           &modes_out);
  EXPECT_EQ(modes_src, modes_out);
  // Refuses to write over existing files.
  EXPECT_FALSE((*reader)->ExtractPayload(*manifest, "nasty", dir_ / "out").ok());
  EXPECT_EQ((*reader)->ExtractPayload(*manifest, "nope", dir_ / "x").code(),
            Status::Code::kNotFound);
}

TEST_F(RoundTrip, XorrisoExtractsIdenticalTree) {
  std::string out;
  ASSERT_EQ(RunShell("xorriso -osirrox on -indev " + ShellQuote(iso_) + " -extract /P " +
                         ShellQuote(dir_ / "x") + " 2>&1",
                     &out),
            0)
      << out;
  std::string diff;
  EXPECT_EQ(RunShell("diff -r --no-dereference " + ShellQuote(dir_ / "src") + " " +
                         ShellQuote(dir_ / "x") + " 2>&1",
                     &diff),
            0)
      << diff;
  std::string a, b;
  RunShell("cd " + ShellQuote(dir_ / "src") + " && find . -printf '%p %m %y %l\\n' | sort", &a);
  RunShell("cd " + ShellQuote(dir_ / "x") + " && find . -printf '%p %m %y %l\\n' | sort", &b);
  EXPECT_EQ(a, b);
  // xorriso's own listing agrees on symlinks.
  ASSERT_EQ(
      RunShell("xorriso -indev " + ShellQuote(iso_) + " -find /P -type l -exec lsdl 2>/dev/null",
               &out),
      0);
  EXPECT_NE(out.find("link-abs' -> '/etc/passwd'"), std::string::npos) << out;
}

TEST_F(RoundTrip, IsoinfoReadsRockRidgeAndJoliet) {
  std::string rr;
  ASSERT_EQ(RunShell("isoinfo -R -l -i " + ShellQuote(iso_) + " 2>&1", &rr), 0);
  EXPECT_NE(rr.find(std::string(200, 'L')), std::string::npos);
  EXPECT_NE(rr.find("name with spaces.txt"), std::string::npos);
  EXPECT_NE(rr.find("ünïcödé ☃ 日本語.txt"), std::string::npos);
  EXPECT_NE(rr.find("-rwxr-xr-x"), std::string::npos);
  EXPECT_NE(rr.find("link-rel -> install.sh"), std::string::npos);
  EXPECT_NE(rr.find("GITDISC.JSN"), std::string::npos);
  EXPECT_NE(rr.find("/P/nasty/level0/level1/level2"), std::string::npos);
  std::string joliet;
  ASSERT_EQ(RunShell("isoinfo -J -f -i " + ShellQuote(iso_) + " 2>&1", &joliet), 0);
  EXPECT_NE(joliet.find("/P/nasty/name with spaces.txt"), std::string::npos)
      << joliet.substr(0, 2000);
  EXPECT_NE(joliet.find("/GITDISC.JSN"), std::string::npos);
}

TEST_F(RoundTrip, SameFoldersTwiceSameBytesAlsoAfterTouch) {
  auto again = WriteBundleIso(bundle_, dir_ / "again.iso");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Slurp(iso_) == Slurp(dir_ / "again.iso"));
  ASSERT_EQ(
      RunShell("find " + ShellQuote(dir_ / "src") + " -exec touch -h -d '2031-01-01 12:00' {} +"),
      0);
  auto nasty = PayloadFromFolder(dir_ / "src/nasty");
  auto empty = PayloadFromFolder(dir_ / "src/empty-payload");
  ASSERT_TRUE(nasty.ok() && empty.ok());
  Bundle touched;
  touched.revision = "folders";
  touched.payloads = {*nasty, *empty};
  auto t = WriteBundleIso(touched, dir_ / "touched.iso");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->bundle_digest, result_.bundle_digest);
  EXPECT_TRUE(Slurp(iso_) == Slurp(dir_ / "touched.iso"));
}

TEST_F(RoundTrip, FlippedByteIsReportedByPath) {
  std::string copy = dir_ / "flipped.iso";
  ASSERT_EQ(RunShell("cp " + ShellQuote(iso_) + " " + ShellQuote(copy)), 0);
  auto reader = IsoReader::Open(copy);
  ASSERT_TRUE(reader.ok());
  const IsoEntry* e = (*reader)->Find("P/nasty/many/f1234");
  ASSERT_NE(e, nullptr);
  ASSERT_FALSE(e->extents.empty());
  uint64_t offset = uint64_t(e->extents[0].lba) * 2048 + 2;
  reader->reset();
  int fd = ::open(copy.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
  c ^= 0x01;
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
  auto again = IsoReader::Open(copy);
  ASSERT_TRUE(again.ok());
  auto report = (*again)->Verify();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->mismatches.size(), 1u);
  EXPECT_EQ(report->mismatches[0].path, "P/nasty/many/f1234");
  EXPECT_TRUE(report->missing.empty());
  EXPECT_TRUE(report->extra.empty());
  // The layout check does not read contents: the same disc passes it.
  auto layout = (*again)->VerifyLayout();
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(layout->ok());
  // Extraction refuses the tampered payload and leaves nothing behind.
  Status st = (*again)->ExtractPayload(report->manifest, "nasty", dir_ / "tampered");
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_FALSE(PathExists(dir_ / "tampered"));
}

TEST(IsoReader, ExtraAndMissingFilesAreReported) {
  // An image made by xorriso from a tree that does not match its manifest.
  TempDir dir;
  Bundle b;
  BundlePayload p;
  p.name = "app";
  p.files = {MemFile("a", "A\n"), MemFile("b", "B\n")};
  b.payloads = {p};
  auto r = WriteBundleIso(b, dir / "good.iso");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(
      RunShell("mkdir -p " + ShellQuote(dir / "tree/P/app") + " && cd " + ShellQuote(dir / "tree") +
               " && xorriso -osirrox on -indev ../good.iso " +
               "-extract /GITDISC.JSN GITDISC.JSN >/dev/null 2>&1 && printf 'Z\\n' > P/app/a " +
               "&& printf 'x' > P/app/extra && xorriso -as mkisofs -R -J -V " + r->volume_id +
               " -o ../bad.iso . >/dev/null 2>&1"),
      0);
  auto reader = IsoReader::Open(dir / "bad.iso");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto report = (*reader)->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->missing.size(), 1u);
  EXPECT_EQ(report->missing[0].path, "P/app/b");
  ASSERT_EQ(report->extra.size(), 1u);
  EXPECT_EQ(report->extra[0].path, "P/app/extra");
  ASSERT_EQ(report->mismatches.size(), 1u);
  EXPECT_EQ(report->mismatches[0].path, "P/app/a");
  // The layout check sees the same extra and missing files; "a" differs in
  // content only (same size), which only a content check can see.
  auto layout = (*reader)->VerifyLayout();
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->missing.size(), 1u);
  EXPECT_EQ(layout->extra.size(), 1u);
  EXPECT_TRUE(layout->mismatches.empty());
}

TEST(IsoReader, GarbageAndTruncatedImagesAreErrorsNotCrashes) {
  TempDir dir;
  isotest::RunShell("head -c 100000 /dev/urandom > " + ShellQuote(dir / "garbage.iso"));
  auto g = IsoReader::Open(dir / "garbage.iso");
  EXPECT_FALSE(g.ok());
  Bundle b;
  BundlePayload p;
  p.name = "app";
  for (int i = 0; i < 50; ++i) p.files.push_back(MemFile("f" + std::to_string(i), "x"));
  b.payloads = {p};
  ASSERT_TRUE(WriteBundleIso(b, dir / "good.iso").ok());
  std::string good = Slurp(dir / "good.iso");
  for (size_t cut : {size_t(0), size_t(16 * 2048 + 100), size_t(20 * 2048), good.size() / 2}) {
    std::string path = dir / ("cut" + std::to_string(cut) + ".iso");
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_EQ(::write(fd, good.data(), cut), static_cast<ssize_t>(cut));
    ::close(fd);
    auto r = IsoReader::Open(path);
    if (r.ok()) {
      auto v = (*r)->Verify();
      EXPECT_TRUE(!v.ok() || !v->ok()) << "cut at " << cut;
    }
  }
  // Random single-byte corruption of the directory area never crashes.
  for (int i = 0; i < 200; ++i) {
    std::string bad = good;
    size_t pos = 16 * 2048 + (static_cast<size_t>(i) * 7919) % (good.size() - 16 * 2048);
    bad[pos] = static_cast<char>(bad[pos] ^ (1 + i % 255));
    std::string path = dir / "flip.iso";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_EQ(::write(fd, bad.data(), bad.size()), static_cast<ssize_t>(bad.size()));
    ::close(fd);
    auto r = IsoReader::Open(path);
    if (r.ok()) (void)(*r)->Verify();
  }
}

TEST(IsoReader, OpenRetriesUntilTheMediaAppears) {
  TempDir dir;
  Bundle b;
  BundlePayload p;
  p.name = "app";
  p.files = {MemFile("a", "A\n")};
  b.payloads = {p};
  ASSERT_TRUE(WriteBundleIso(b, dir / "staged.iso").ok());
  auto missing = IsoReader::Open(dir / "nothing.iso", {std::chrono::milliseconds(250)});
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::rename((dir / "staged.iso").c_str(), (dir / "late.iso").c_str());
  });
  auto r = IsoReader::Open(dir / "late.iso", {std::chrono::seconds(60)});
  later.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->Verify()->ok());
}

}  // namespace
}  // namespace gitdisc::iso
