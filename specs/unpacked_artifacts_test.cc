// UnpackedArtifacts on file: archives under a temp artifact root: extracted
// once and kept by sha256 (a new store answers from the kept listing even
// when the archive is gone), a touched tree re-extracted when verified, a
// hostile archive leaving nothing behind, and the payload identity over the
// extracted files (it changes when unpack flips or the content changes).
#include "specs/unpacked_artifacts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/payload_digest.h"
#include "specs/test_archive.h"
#include "specs/test_folder.h"

namespace gitdisc::specs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test_archive::E;
using test_archive::Format;
using test_archive::WriteArchive;

class UnpackedArtifactsTest : public ::testing::Test {
 protected:
  std::string root() const { return JoinPath(dir_.path(), "root"); }
  std::string state() const { return JoinPath(dir_.path(), "state"); }

  // Writes root/NAME and returns an unpack: true file: source pinned to it.
  FileSource Archive(const std::string& name, const std::vector<E>& entries,
                     Format format = Format::kTarGz) {
    (void)MakeDirs(root());
    const std::string path = JoinPath(root(), name);
    (void)::unlink(path.c_str());
    WriteArchive(path, entries, format);
    auto bytes = ReadFile(path);
    EXPECT_TRUE(bytes.ok());
    return FileSource{path, Sha256Hex(*bytes), true};
  }

  std::unique_ptr<UnpackedArtifacts> NewStore() const {
    auto store = std::make_shared<ArtifactStore>(state(), ArtifactLimits{},
                                                 ArtifactPolicy{{root()}, false});
    return std::make_unique<UnpackedArtifacts>(store, state());
  }

  static std::vector<std::string> Paths(const std::vector<PayloadFile>& files) {
    std::vector<std::string> out;
    for (const PayloadFile& f : files) out.push_back(f.path + " " + std::to_string(f.mode));
    return out;
  }

  TestFolder dir_;
};

const std::vector<E> kPlugin = {
    {"install.sh", "#!/bin/sh\necho installed\n", AE_IFREG, 0755},
    {"lib/", "", AE_IFDIR, 0755},
    {"lib/data.txt", "data\n"},
    {"lib/current", "", AE_IFLNK, 0777, "data.txt"},
};

TEST_F(UnpackedArtifactsTest, ExtractsOnceAndKeepsTheTreeBySha256) {
  FileSource src = Archive("plugin.tar.gz", kPlugin);
  auto tree = NewStore()->Get(src, /*verify=*/true);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_THAT(Paths(tree->files),
              ElementsAre("install.sh 493", "lib/current 511", "lib/data.txt 420"));
  EXPECT_EQ(tree->folder, NewStore()->EntryPath(src.sha256) + "/tree");
  EXPECT_EQ(*ReadFile(tree->folder + "/install.sh"), "#!/bin/sh\necho installed\n");
  EXPECT_TRUE(PathExists(NewStore()->EntryPath(src.sha256) + "/files.json"));

  // Another process: the kept listing and tree answer, the archive is not needed.
  const std::string bytes = *ReadFile(src.path);
  ASSERT_EQ(::unlink(src.path.c_str()), 0);
  auto again = NewStore()->Get(src, /*verify=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files, tree->files);

  // A touched tree is not trusted: verification extracts it afresh (which
  // needs the archive again).
  ASSERT_TRUE(WriteFileAtomic(tree->folder + "/install.sh", "tampered", 0755).ok());
  auto planned = NewStore()->Get(src, /*verify=*/false);  // planning reads the listing only
  ASSERT_TRUE(planned.ok());
  EXPECT_EQ(planned->files, tree->files);
  auto missing = NewStore()->Get(src, /*verify=*/true);
  EXPECT_FALSE(missing.ok());
  ASSERT_TRUE(WriteFileAtomic(src.path, bytes).ok());
  auto fixed = NewStore()->Get(src, /*verify=*/true);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->files, tree->files);
  EXPECT_EQ(*ReadFile(fixed->folder + "/install.sh"), "#!/bin/sh\necho installed\n");
}

TEST_F(UnpackedArtifactsTest, HostileArchiveLeavesNothingBehind) {
  FileSource src = Archive("evil.tar.gz", {{"ok.sh", "x", AE_IFREG, 0755}, {"../escape", "x"}});
  auto tree = NewStore()->Get(src);
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(tree.status().message(), HasSubstr("../escape"));
  auto left = ListFolder(JoinPath(state(), "artifacts"));
  std::vector<std::string> names = left.ok() ? *left : std::vector<std::string>{};
  EXPECT_THAT(names, ::testing::IsEmpty());
  EXPECT_FALSE(PathExists(JoinPath(dir_.path(), "escape")));

  FileSource empty = Archive("empty.zip", {{"only/", "", AE_IFDIR, 0755}}, Format::kZip);
  auto none = NewStore()->Get(empty);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("holds no files"));
}

TEST_F(UnpackedArtifactsTest, ZipAndTarHoldingTheSameTreeAreTheSamePayload) {
  FileSource tgz = Archive("p.tar.gz", kPlugin);
  FileSource zip = Archive("p.zip", kPlugin, Format::kZip);
  ASSERT_NE(tgz.sha256, zip.sha256);
  auto a = NewStore()->Get(tgz);
  auto b = NewStore()->Get(zip);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->files, b->files);
}

TEST_F(UnpackedArtifactsTest, IdentityFollowsUnpackAndContent) {
  Payload p;
  p.name = "plugin";
  p.version = "1.4";
  p.run = {"./install.sh"};
  FileSource v1 = Archive("p1.tar.gz", kPlugin);
  std::vector<E> changed = kPlugin;
  changed[2].data = "data v2\n";
  FileSource v2 = Archive("p2.tar.gz", changed);

  auto t1 = NewStore()->Get(v1);
  auto t2 = NewStore()->Get(v2);
  ASSERT_TRUE(t1.ok() && t2.ok());
  FileSource packed = v1;
  packed.unpack = false;
  const std::string d_unpacked = PayloadDigest(p, t1->files);
  const std::string d_packed = PayloadDigest(p, {ArtifactPayloadFile(packed)});
  const std::string d_changed = PayloadDigest(p, t2->files);
  EXPECT_NE(d_unpacked, d_packed);
  EXPECT_NE(d_unpacked, d_changed);
  // Deterministic: the same archive, extracted again elsewhere, gives the same identity.
  auto again = UnpackedArtifacts(std::make_shared<ArtifactStore>(
                                     JoinPath(dir_.path(), "state2"), ArtifactLimits{},
                                     ArtifactPolicy{{root()}, false}),
                                 JoinPath(dir_.path(), "state2"))
                   .Get(v1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(PayloadDigest(p, again->files), d_unpacked);

  auto not_unpacked = NewStore()->Get(packed);
  EXPECT_EQ(not_unpacked.status().code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace gitdisc::specs
