#include "guest/payload_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/file_util.h"
#include "guest/test_bundle.h"
#include "tests/support/disc_forgery.h"

namespace gitdisc::guest {
namespace {

using testing::ScriptPayload;
using testing::TempDir;

std::vector<std::string> Entries(const std::string& dir) {
  auto names = ListFolder(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

// One disc per version of payload "app".
struct Disc {
  std::unique_ptr<iso::IsoReader> reader;
  iso::Manifest manifest;
  const iso::ManifestPayload& app() const { return *manifest.FindPayload("app"); }
};

class PayloadStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = PayloadStore::Open(tmp_ / "payloads");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  Disc Version(const std::string& v, bool tamper = false) {
    iso::BundlePayload p = ScriptPayload("app", "echo version " + v + "\n");
    p.version = v;
    std::string path = tmp_ / ("app-" + v + ".iso");
    std::string err;
    EXPECT_FALSE(testing::WriteBundle({p}, path, &err).empty()) << err;
    if (tamper) {
      EXPECT_TRUE(test_support::ReplaceUniqueBytes(path, "echo version", "echo VERSION").ok());
    }
    Disc d;
    auto r = iso::IsoReader::Open(path);
    EXPECT_TRUE(r.ok());
    d.reader = std::move(*r);
    auto m = d.reader->ReadManifest();
    EXPECT_TRUE(m.ok());
    d.manifest = *m;
    return d;
  }

  std::string AppDir() { return tmp_ / "payloads/app"; }

  TempDir tmp_;
  std::unique_ptr<PayloadStore> store_;
};

TEST_F(PayloadStoreTest, OnlyTheInstalledCopyIsKeptAcrossUpgrades) {
  Disc v1 = Version("1"), v2 = Version("2");
  auto dir1 = store_->Stage(*v1.reader, v1.manifest, v1.app());
  ASSERT_TRUE(dir1.ok()) << dir1.status().ToString();
  EXPECT_EQ(*dir1, store_->FilesDir("app", v1.app().digest));
  EXPECT_TRUE(PathExists(*dir1 + "/install.sh"));
  ASSERT_TRUE(store_->Commit("app", v1.app().digest).ok());
  EXPECT_EQ(store_->InstalledDigest("app"), v1.app().digest);

  auto dir2 = store_->Stage(*v2.reader, v2.manifest, v2.app());
  ASSERT_TRUE(dir2.ok()) << dir2.status().ToString();
  EXPECT_TRUE(store_->Has("app", v1.app().digest));  // both while v2 runs
  ASSERT_TRUE(store_->Commit("app", v2.app().digest).ok());
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{v2.app().digest, "installed"}));

  auto kept = store_->Installed("app");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->digest, v2.app().digest);
  EXPECT_EQ(kept->entry, v2.app());
  EXPECT_EQ(kept->files_dir, *dir2);
}

TEST_F(PayloadStoreTest, AFailedUpgradeKeepsTheLastGoodCopy) {
  Disc v1 = Version("1"), v2 = Version("2");
  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  ASSERT_TRUE(store_->Commit("app", v1.app().digest).ok());
  ASSERT_TRUE(store_->Stage(*v2.reader, v2.manifest, v2.app()).ok());
  ASSERT_TRUE(store_->Discard("app", v2.app().digest).ok());  // its run failed
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{v1.app().digest, "installed"}));
  auto kept = store_->Installed("app");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->digest, v1.app().digest);
  // Discarding the installed digest (a failed re-run of it) keeps it too.
  ASSERT_TRUE(store_->Discard("app", v1.app().digest).ok());
  EXPECT_TRUE(store_->Installed("app").ok());
}

TEST_F(PayloadStoreTest, AFailedFirstInstallLeavesNothing) {
  Disc v1 = Version("1");
  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  ASSERT_TRUE(store_->Discard("app", v1.app().digest).ok());
  EXPECT_FALSE(PathExists(AppDir()));
  EXPECT_EQ(store_->Installed("app").status().code(), Status::Code::kNotFound);
}

TEST_F(PayloadStoreTest, ATamperedDiscIsNotCopiedAndTheInstalledCopyStays) {
  Disc v1 = Version("1"), bad = Version("2", /*tamper=*/true);
  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  ASSERT_TRUE(store_->Commit("app", v1.app().digest).ok());
  auto dir = store_->Stage(*bad.reader, bad.manifest, bad.app());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(dir.status().message().find("does not match its manifest"), std::string::npos)
      << dir.status().message();
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{v1.app().digest, "installed"}));
}

TEST_F(PayloadStoreTest, RestagingTheInstalledDigestReplacesItWithAFreshCopy) {
  Disc v1 = Version("1");
  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  ASSERT_TRUE(store_->Commit("app", v1.app().digest).ok());
  std::string script = store_->FilesDir("app", v1.app().digest) + "/install.sh";
  ASSERT_TRUE(WriteFileAtomic(script, "#!/bin/sh\necho changed\n", 0755).ok());
  auto altered = store_->Installed("app");
  EXPECT_EQ(altered.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(altered.status().message().find("install.sh"), std::string::npos);

  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  auto kept = store_->Installed("app");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{v1.app().digest, "installed"}));
}

TEST_F(PayloadStoreTest, PruneFinishesWhatACrashLeftHalfDone) {
  Disc v1 = Version("1"), v2 = Version("2"), v3 = Version("3");
  const std::string d1 = v1.app().digest, d2 = v2.app().digest, d3 = v3.app().digest;
  ASSERT_TRUE(store_->Stage(*v1.reader, v1.manifest, v1.app()).ok());
  ASSERT_TRUE(store_->Commit("app", d1).ok());
  // Killed while v2 ran, and while v3 was being copied.
  ASSERT_TRUE(store_->Stage(*v2.reader, v2.manifest, v2.app()).ok());
  ASSERT_TRUE(MakeDirs(AppDir() + "/.incoming-" + d3 + "/files").ok());
  // A payload whose first install never finished.
  ASSERT_TRUE(MakeDirs(tmp_ / "payloads/other/" + d3 + "/files").ok());
  ASSERT_TRUE(store_->Prune({}).ok());
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{d1, "installed"}));
  EXPECT_FALSE(PathExists(tmp_ / "payloads/other"));

  // Killed after the ledger recorded v2's success, before the pointer moved.
  ASSERT_TRUE(store_->Stage(*v2.reader, v2.manifest, v2.app()).ok());
  ASSERT_TRUE(store_->Prune({{"app", d2}}).ok());
  EXPECT_EQ(store_->InstalledDigest("app"), d2);
  EXPECT_EQ(Entries(AppDir()), (std::vector<std::string>{d2, "installed"}));

  // Killed between the two renames of a same-digest replacement.
  ASSERT_EQ(::rename((AppDir() + "/" + d2).c_str(), (AppDir() + "/.old-" + d2).c_str()), 0);
  ASSERT_TRUE(store_->Prune({{"app", d2}}).ok());
  auto kept = store_->Installed("app");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->digest, d2);
}

}  // namespace
}  // namespace gitdisc::guest
