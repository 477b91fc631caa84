// PoolCollector against the recording FakeProvider: the grace period, the
// state that survives a restart, images still in a drive, hosts that fail.
#include "reconciler/pool_gc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/file_util.h"
#include "tests/support/fake_provider.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::reconciler {
namespace {

using ::testing::Contains;
using ::testing::Not;

constexpr char kLocal[] = "qemu:///system";
constexpr char kRemote[] = "qemu+tcp://10.0.0.2/system";

class PoolGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vm_ = fake_.AddVm({.name = "r", .host = kRemote});
    for (const char* d : {"aa", "bb", "cc"}) ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", d).ok());
  }

  PoolCollector Make() {
    return PoolCollector(&fake_, {dir_ / "pool-unused.json", std::chrono::seconds(600), &clock_});
  }
  std::vector<std::string> Left() {
    std::vector<std::string> out;
    auto images = fake_.ListPoolImages(kRemote);
    if (images.ok()) {
      for (const PoolImage& img : *images) out.push_back(img.digest);
    }
    return out;
  }
  std::string Deletes() {
    std::string out;
    for (const std::string& c : fake_.calls()) {
      if (c.rfind("DeletePoolImage", 0) == 0) out += c.substr(c.rfind(' ') + 1) + " ";
    }
    return out;
  }

  FakeProvider fake_{{kLocal, kRemote}};
  FakeClock clock_;
  gitdisc::testing::TempDir dir_{"poolgc"};
  std::string vm_;
};

TEST_F(PoolGcTest, UnusedImagesGoAfterTheGracePeriodDesiredOnesStay) {
  PoolCollector gc = Make();
  auto first = gc.Collect({"aa"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->deleted, 0);  // first sighting starts the clock
  EXPECT_EQ(first->images.size(), 3u);
  EXPECT_TRUE(first->images[0].desired);
  EXPECT_FALSE(first->images[1].desired);
  clock_.Advance(std::chrono::seconds(599));
  EXPECT_EQ(gc.Collect({"aa"})->deleted, 0);
  clock_.Advance(std::chrono::seconds(1));
  auto due = gc.Collect({"aa"});
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->deleted, 2);
  EXPECT_EQ(Left(), (std::vector<std::string>{"aa"}));
  EXPECT_EQ(Deletes(), "bb cc ");
  EXPECT_EQ(gc.deletions(), 2u);
}

TEST_F(PoolGcTest, TheGraceSurvivesARestartAndADesiredImageIsForgotten) {
  ASSERT_TRUE(Make().Collect({}).ok());  // all three unused from now
  clock_.Advance(std::chrono::seconds(300));
  ASSERT_TRUE(Make().Collect({"bb"}).ok());  // bb desired again: its clock resets
  clock_.Advance(std::chrono::seconds(300));
  PoolCollector restarted = Make();  // a new process reads the records
  auto r = restarted.Collect({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Left(), (std::vector<std::string>{"bb"}));
  clock_.Advance(std::chrono::seconds(600));
  ASSERT_TRUE(restarted.Collect({}).ok());
  EXPECT_TRUE(Left().empty());
}

TEST_F(PoolGcTest, AnImageInADriveIsKeptUntilEjected) {
  ASSERT_TRUE(fake_.InsertMedia(vm_, "hdc", "/var/lib/libvirt/gitdisc/bb.iso").ok());
  PoolCollector gc = Make();
  ASSERT_TRUE(gc.Collect({}).ok());
  clock_.Advance(std::chrono::seconds(600));
  auto r = gc.Collect({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Left(), (std::vector<std::string>{"bb"}));
  ASSERT_EQ(r->images.size(), 3u);
  EXPECT_TRUE(IsDriveBusy(Status::Conflict(r->images[1].kept_because)));
  ASSERT_TRUE(fake_.EjectMedia(vm_, "hdc", "/var/lib/libvirt/gitdisc/bb.iso", false).ok());
  ASSERT_TRUE(gc.Collect({}).ok());  // still past its grace: goes now
  EXPECT_TRUE(Left().empty());
}

TEST_F(PoolGcTest, DryRunDeletesAndRecordsNothing) {
  PoolCollector gc = Make();
  ASSERT_TRUE(gc.Collect({}, /*dry_run=*/true).ok());
  EXPECT_FALSE(PathExists(dir_ / "pool-unused.json"));
  ASSERT_TRUE(gc.Collect({}).ok());
  clock_.Advance(std::chrono::seconds(600));
  auto dry = gc.Collect({}, true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->deleted, 3);  // would delete
  EXPECT_EQ(Left().size(), 3u);
  EXPECT_EQ(Deletes(), "");
}

TEST_F(PoolGcTest, AHostThatCannotBeListedIsReportedAndItsRecordsKept) {
  PoolCollector gc = Make();
  ASSERT_TRUE(gc.Collect({}).ok());
  fake_.FailNext(FakeProvider::Op::kListPoolImages, "", Status::Unavailable("host down"), 2);
  clock_.Advance(std::chrono::seconds(600));
  auto r = gc.Collect({});  // the local host fails, then the remote one
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->errors.size(), 2u);
  EXPECT_EQ(Left().size(), 3u);
  ASSERT_TRUE(gc.Collect({}).ok());  // the records were kept: due at once
  EXPECT_TRUE(Left().empty());
  EXPECT_THAT(fake_.calls(), Not(Contains("DeletePoolImage qemu:///system aa")));
}

TEST_F(PoolGcTest, ACorruptStateFileIsAnError) {
  ASSERT_TRUE(WriteFileAtomic(dir_ / "pool-unused.json", "[1,2").ok());
  EXPECT_EQ(Make().Collect({}).status().code(), Status::Code::kCorrupt);
}

}  // namespace
}  // namespace gitdisc::reconciler
