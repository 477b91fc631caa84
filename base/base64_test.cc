#include "base/base64.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("Zg=="), "f");
}

TEST(Base64, RefusesWhatIsNotCanonicalBase64) {
  EXPECT_EQ(Base64Decode("Zm9"), std::nullopt);        // length
  EXPECT_EQ(Base64Decode("Zm 9v"), std::nullopt);      // whitespace
  EXPECT_EQ(Base64Decode("Z=9v"), std::nullopt);       // padding inside
  EXPECT_EQ(Base64Decode("Zg==Zm9v"), std::nullopt);   // padding before the end
  EXPECT_EQ(Base64Decode("Zm9v!A=="), std::nullopt);   // alphabet
  EXPECT_EQ(Base64Decode("Z==="), std::nullopt);       // three pads
}

}  // namespace
}  // namespace gitdisc
