#include "base/byte_size.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(ByteSize, ParsesBinaryDecimalAndPlainSizes) {
  EXPECT_EQ(*ParseByteSize("10GiB"), 10ull << 30);
  EXPECT_EQ(*ParseByteSize("10G"), 10ull << 30);
  EXPECT_EQ(*ParseByteSize("512 MiB"), 512ull << 20);
  EXPECT_EQ(*ParseByteSize("64KiB"), 64ull << 10);
  EXPECT_EQ(*ParseByteSize("2TiB"), 2ull << 40);
  EXPECT_EQ(*ParseByteSize("5MB"), 5000000u);
  EXPECT_EQ(*ParseByteSize("1TB"), 1000000000000u);
  EXPECT_EQ(*ParseByteSize("1073741824"), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("7B"), 7u);
}

TEST(ByteSize, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "GiB", "-1", "1.5GiB", "10gib", "10 GiB x", "10XB",
                          "99999999999999999999", "20000000TiB"}) {
    auto r = ParseByteSize(bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << bad;
  }
  EXPECT_NE(ParseByteSize("10gib").status().message().find("'10gib'"), std::string::npos);
}

TEST(ByteSize, FormatsForPeople) {
  EXPECT_EQ(FormatByteSize(0), "0 B");
  EXPECT_EQ(FormatByteSize(1023), "1023 B");
  EXPECT_EQ(FormatByteSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatByteSize(10ull << 30), "10.0 GiB");
}

}  // namespace
}  // namespace gitdisc
