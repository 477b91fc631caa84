#include "base/lru_map.h"

#include <gtest/gtest.h>

#include <string>

namespace gitdisc {
namespace {

TEST(LruMap, ForgetsTheLeastRecentlyUsedBeyondCapacity) {
  LruMap<std::string, int> m(2);
  m.Put("a", 1);
  m.Put("b", 2);
  ASSERT_NE(m.Find("a"), nullptr);  // a is now the most recent
  m.Put("c", 3);                    // b goes
  EXPECT_EQ(m.Find("b"), nullptr);
  EXPECT_EQ(*m.Find("a"), 1);
  EXPECT_EQ(*m.Find("c"), 3);
  EXPECT_EQ(m.size(), 2u);
}

TEST(LruMap, ReplacingKeepsOneEntryAndManyKeysStayBounded) {
  LruMap<int, std::string> m(3);
  m.Put(1, "x");
  m.Put(1, "y");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(*m.Find(1), "y");
  for (int i = 0; i < 100000; ++i) m.Put(i, std::to_string(i));
  EXPECT_EQ(m.size(), 3u);
  EXPECT_TRUE(m.Contains(99999));
  EXPECT_FALSE(m.Contains(0));
  EXPECT_TRUE(m.Erase(99999));
  EXPECT_FALSE(m.Erase(99999));
  EXPECT_EQ(m.size(), 2u);
}

TEST(LruMap, ZeroCapacityHoldsOne) {
  LruMap<int, int> m(0);
  m.Put(1, 1);
  m.Put(2, 2);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.Contains(2));
}

}  // namespace
}  // namespace gitdisc
