// CacheKeeper with a real IsoCache (a temp folder), the recording fake
// provider and the fake controller: eviction to the bound, pool collection
// with the desired bundles from the status, the metrics it publishes.
#include "serve/cache_keeper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "iso/test_util.h"
#include "tests/support/fake_controller.h"
#include "tests/support/fake_provider.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;

constexpr char kRemote[] = "qemu+tcp://10.0.0.2/system";

class CacheKeeperTest : public ::testing::Test {
 protected:
  CacheKeeperTest()
      : log_(&out_, LogFormat::kText, &clock_, true),
        metrics_(&registry_),
        fake_({"qemu:///system", kRemote}) {}

  std::string Build(iso::IsoCache& cache, const std::string& tag) {
    iso::Bundle b = iso::isotest::OneFileBundle(tag);
    EXPECT_TRUE(cache.Ensure(b).ok());
    clock_.Advance(std::chrono::seconds(1));
    return *iso::KnownBundleDigest(b);
  }

  FakeClock clock_;
  std::ostringstream out_;
  DaemonLog log_;
  MetricsRegistry registry_;
  GitdiscMetrics metrics_;
  FakeProvider fake_;
  testing::FakeController controller_;
  testing::TempDir dir_{"keeper"};
};

TEST_F(CacheKeeperTest, EvictsToTheBoundCollectsThePoolAndPublishes) {
  auto cache = iso::IsoCache::Open({dir_ / "isos", 0, &clock_});
  ASSERT_TRUE(cache.ok());
  std::string old_a = Build(**cache, "a"), pinned = Build(**cache, "b"),
              newest = Build(**cache, "c");
  uint64_t one = *(*cache)->TotalBytes() / 3;
  ASSERT_TRUE((*cache)->Pin(pinned, "qemu:///system/vm-b").ok());
  // The bound lets one image stay: the newest; the pinned one stays anyway.
  auto bounded = iso::IsoCache::Open({dir_ / "isos", one, &clock_});
  ASSERT_TRUE(bounded.ok());
  // The pool: the desired bundle of the sample status, and one nobody wants.
  reconciler::FleetStatus st = testing::SampleFleetStatus();
  st.vms[0].bundle_digest = "dd";
  controller_.SetStatus(st);
  ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", "dd").ok());
  ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", "ee").ok());
  reconciler::PoolCollector pools(&fake_, {dir_ / "pool.json", std::chrono::seconds(0), &clock_});
  CacheKeeper keeper(bounded->get(), &pools, &controller_, &metrics_, &log_);

  ASSERT_TRUE(keeper.RunOnce());
  EXPECT_FALSE((*bounded)->Contains(old_a));
  EXPECT_TRUE((*bounded)->Contains(pinned)) << "pinned: a VM has it inserted";
  EXPECT_FALSE((*bounded)->Contains(newest)) << "over the bound and unpinned";
  auto left = fake_.ListPoolImages(kRemote);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].digest, "dd");
  EXPECT_EQ(metrics_.cache_bytes.Value({"images"}), static_cast<double>(one));
  EXPECT_EQ(metrics_.cache_evictions.Value({"images"}), 2);
  EXPECT_EQ(metrics_.cache_evictions.Value({"pool"}), 1);
  EXPECT_EQ(metrics_.cache_bytes.Value({"pool"}), 0);  // the fake's images have no size
  EXPECT_THAT(out_.str(), HasSubstr("pool image deleted"));
  EXPECT_THAT(registry_.Render(), HasSubstr("gitdisc_cache_evictions_total{cache=\"images\"} 2"));
}

TEST_F(CacheKeeperTest, NothingIsCollectedBeforeTheFirstScan) {
  auto cache = iso::IsoCache::Open({dir_ / "isos", 1, &clock_});
  ASSERT_TRUE(cache.ok());
  std::string a = Build(**cache, "a");
  ASSERT_TRUE(fake_.PrepareImage(kRemote, "/x", "ee").ok());
  reconciler::PoolCollector pools(&fake_, {dir_ / "pool.json", std::chrono::seconds(0), &clock_});
  CacheKeeper keeper(cache->get(), &pools, &controller_, &metrics_, &log_);
  controller_.SetReady(false);
  EXPECT_FALSE(keeper.RunOnce());
  EXPECT_TRUE((*cache)->Contains(a));
  EXPECT_EQ(fake_.ListPoolImages(kRemote)->size(), 1u);
}

}  // namespace
}  // namespace gitdisc::serve
