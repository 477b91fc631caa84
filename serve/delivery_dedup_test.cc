#include "serve/delivery_dedup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace gitdisc::serve {
namespace {

TEST(DeliveryDedup, RecognisesARepeatedId) {
  DeliveryDedup d(8);
  EXPECT_TRUE(d.FirstSeen("github:a"));
  EXPECT_FALSE(d.FirstSeen("github:a"));
  EXPECT_TRUE(d.FirstSeen("gitlab:a"));
}

TEST(DeliveryDedup, ForgetsTheLeastRecentlySeenBeyondCapacity) {
  DeliveryDedup d(2);
  EXPECT_TRUE(d.FirstSeen("a"));
  EXPECT_TRUE(d.FirstSeen("b"));
  EXPECT_FALSE(d.FirstSeen("a"));  // a is now the most recent
  EXPECT_TRUE(d.FirstSeen("c"));   // evicts b
  EXPECT_EQ(d.size(), 2u);
  EXPECT_FALSE(d.FirstSeen("a"));
  EXPECT_TRUE(d.FirstSeen("b"));
}

TEST(DeliveryDedup, ExactlyOneThreadWinsARace) {
  DeliveryDedup d(1024);
  std::atomic<int> firsts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (d.FirstSeen("id-" + std::to_string(i))) ++firsts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(firsts.load(), 100);
}

}  // namespace
}  // namespace gitdisc::serve
