// `gitdisc cache ls|gc` over a real IsoCache (temp folder) and the recording
// FakeProvider's pools.
#include "cli/cache_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "iso/test_util.h"
#include "tests/support/fake_provider.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kRemote[] = "qemu+tcp://10.0.0.2/system";

struct Ran {
  int rc;
  std::string out, err;
};

class CacheReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cache = iso::IsoCache::Open({dir_ / "isos", 0, &clock_});
    ASSERT_TRUE(cache.ok());
    cache_ = std::move(cache).value();
    for (const char* tag : {"old", "pinned", "new"}) {
      iso::Bundle b = iso::isotest::OneFileBundle(tag);
      ASSERT_TRUE(cache_->Ensure(b).ok());
      digests_.push_back(*iso::KnownBundleDigest(b));
      clock_.Advance(std::chrono::seconds(60));
    }
    ASSERT_TRUE(cache_->Pin(digests_[1], "qemu:///system/uuid-web-1").ok());
    ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", "aa").ok());
    ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", "bb").ok());
  }

  template <typename F>
  Ran Run(F f) {
    std::ostringstream out, err;
    Io io{out, err, false};
    int rc = f(io);
    return {rc, out.str(), err.str()};
  }

  FakeClock clock_;
  testing::TempDir dir_{"cachecli"};
  std::unique_ptr<iso::IsoCache> cache_;
  std::vector<std::string> digests_;
  FakeProvider fake_{{"qemu:///system", kRemote}};
};

TEST_F(CacheReportTest, LsListsImagesOldestFirstWithPinsAndThePools) {
  Ran r = Run([&](Io& io) { return RunCacheLs(*cache_, &fake_, false, io); });
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("image cache: 3 image(s)"));
  EXPECT_THAT(r.out, HasSubstr("(unbounded)"));
  size_t old_at = r.out.find(digests_[0].substr(0, 12));
  size_t new_at = r.out.find(digests_[2].substr(0, 12));
  EXPECT_LT(old_at, new_at);
  EXPECT_THAT(r.out, HasSubstr("pinned by qemu:///system/uuid-web-1"));
  EXPECT_THAT(r.out, HasSubstr("pool qemu+tcp://10.0.0.2/system: aa"));

  Ran j = Run([&](Io& io) { return RunCacheLs(*cache_, nullptr, true, io); });
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["images"].size(), 3u);
  EXPECT_EQ(doc["images"][1]["pinnedBy"], nlohmann::json::array({"qemu:///system/uuid-web-1"}));
  EXPECT_EQ(doc["pool"].size(), 0u);  // no provider: no pools
}

TEST_F(CacheReportTest, GcEvictsToTheBoundAndCollectsUnusedPoolImages) {
  uint64_t one = *cache_->TotalBytes() / 3;
  auto bounded = iso::IsoCache::Open({dir_ / "isos", one, &clock_});
  ASSERT_TRUE(bounded.ok());
  reconciler::PoolCollector pools(&fake_, {dir_ / "pool.json", std::chrono::seconds(0), &clock_});

  Ran dry = Run([&](Io& io) { return RunCacheGc(**bounded, pools, {"aa"}, true, false, io); });
  EXPECT_EQ(dry.rc, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("pool qemu+tcp://10.0.0.2/system: bb unused since"));
  EXPECT_THAT(dry.out, HasSubstr("would delete"));
  EXPECT_EQ(fake_.ListPoolImages(kRemote)->size(), 2u);
  EXPECT_TRUE((*bounded)->Contains(digests_[0]));

  Ran gc = Run([&](Io& io) { return RunCacheGc(**bounded, pools, {"aa"}, false, false, io); });
  EXPECT_EQ(gc.rc, 0) << gc.err;
  EXPECT_THAT(gc.out, HasSubstr("evicted " + digests_[0].substr(0, 12)));
  EXPECT_THAT(gc.out, HasSubstr("2 evicted"));  // old and new; pinned stays
  EXPECT_TRUE((*bounded)->Contains(digests_[1]));
  EXPECT_THAT(gc.out, HasSubstr(": deleted"));
  auto left = fake_.ListPoolImages(kRemote);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].digest, "aa");
}

}  // namespace
}  // namespace gitdisc::cli
