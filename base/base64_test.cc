#include "base/base64.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foob"), "Zm9vYg==");
  EXPECT_EQ(EncodeBase64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 7) {
    std::string in = all.substr(0, n);
    std::string enc = EncodeBase64(in);
    EXPECT_EQ(enc.size(), Base64Length(n));
    auto dec = DecodeBase64(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, in);
  }
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Zg=", "Z===", "Zg=a", "Zm9v!A==", "=Zm9", "Zg==Zg==", "Zm 9v"}) {
    EXPECT_FALSE(DecodeBase64(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace gitdisc
