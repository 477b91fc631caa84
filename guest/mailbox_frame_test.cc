#include "guest/mailbox_frame.h"

#include <gtest/gtest.h>

namespace gitdisc::guest {
namespace {

TEST(MailboxFrame, RoundTripsEveryField) {
  MailboxFrame f{"abc123", 4096, 77, true, std::string("{\"type\":\"hello\"}\n\0\xff", 19)};
  auto v = EncodeMailboxFrame(f);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->rfind("gdm1 abc123 4096 77 fin ", 0), 0u) << *v;
  auto back = DecodeMailboxFrame(*v);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, f);
}

TEST(MailboxFrame, AnEmptyFrameEndsWithTheEmptyDataField) {
  auto v = EncodeMailboxFrame({"s", 0, 0, false, ""});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "gdm1 s 0 0 - ");
  auto back = DecodeMailboxFrame("gdm1 s 0 0 - \n");  // as vmware-rpctool prints it
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->data.empty());
}

TEST(MailboxFrame, AFullWindowFitsTheValueLimit) {
  MailboxFrame f{std::string(32, 'z'), uint64_t{1} << 53, uint64_t{1} << 53, true,
                 std::string(kMailboxWindowBytes, 'x')};
  auto v = EncodeMailboxFrame(f);
  ASSERT_TRUE(v.ok());
  EXPECT_LE(v->size(), kMailboxMaxValueBytes);
  f.data += 'x';
  EXPECT_EQ(EncodeMailboxFrame(f).status().code(), Status::Code::kInvalid);
}

TEST(MailboxFrame, RefusesBadSessions) {
  EXPECT_FALSE(EncodeMailboxFrame({"", 0, 0, false, ""}).ok());
  EXPECT_FALSE(EncodeMailboxFrame({"ABC", 0, 0, false, ""}).ok());
  EXPECT_FALSE(EncodeMailboxFrame({std::string(33, 'a'), 0, 0, false, ""}).ok());
  EXPECT_FALSE(EncodeMailboxFrame({"a b", 0, 0, false, ""}).ok());
}

TEST(MailboxFrame, DecodingIsStrict) {
  for (const char* bad : {
           "", "gdm1", "gdm1 s 0 0 -", "gdm2 s 0 0 - ", "gdm1 S 0 0 - ", "gdm1 s -1 0 - ",
           "gdm1 s 01 0 - ", "gdm1 s 0 x - ", "gdm1 s 0 0 FIN ", "gdm1 s 0 0 - Zg=",
           "gdm1 s 0 0 - Zg== extra", "gdm1  s 0 0 - ", "gdm1 s 0 0 - \n\n",
           "gdm1 s 99999999999999999 0 - ", "gdm1 s 9007199254740993 0 - "}) {
    EXPECT_FALSE(DecodeMailboxFrame(bad).ok()) << "'" << bad << "'";
  }
  std::string huge = "gdm1 s 0 0 - " + std::string(kMailboxMaxValueBytes, 'A');
  EXPECT_FALSE(DecodeMailboxFrame(huge).ok());
}

}  // namespace
}  // namespace gitdisc::guest
