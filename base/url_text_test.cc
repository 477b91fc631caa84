#include "base/url_text.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(RedactUrl, DropsUserinfoQueryAndFragment) {
  EXPECT_EQ(RedactUrl("https://ghp_TOKEN@github.com/org/fleet.git"), "https://github.com/org/fleet.git");
  EXPECT_EQ(RedactUrl("https://x-access-token:ghp_TOKEN@h:8443/r?x=1#f"), "https://h:8443/r");
  EXPECT_EQ(RedactUrl("https://h/a.tgz?access_token=s3cret"), "https://h/a.tgz");
  EXPECT_EQ(RedactUrl("https://h/p@ath"), "https://h/p@ath");
  EXPECT_EQ(RedactUrl("ssh://git@h/r.git"), "ssh://h/r.git");
  EXPECT_EQ(RedactUrl("/srv/fleet.git"), "/srv/fleet.git");
  EXPECT_EQ(RedactUrl("git@h:org/r.git"), "git@h:org/r.git");
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("group/sub group/fleet"), "group%2Fsub%20group%2Ffleet");
  EXPECT_EQ(PercentEncode("a-b.c_d~e9"), "a-b.c_d~e9");
  EXPECT_EQ(PercentEncode("[ds] vm/a b.iso", /*keep_slash=*/true), "%5Bds%5D%20vm/a%20b.iso");
  EXPECT_EQ(PercentEncode("\xff&="), "%FF%26%3D");
}

TEST(UrlUserinfo, FindsWhatPrecedesTheHost) {
  EXPECT_EQ(UrlUserinfo("https://TOKEN@h/r"), "TOKEN");
  EXPECT_EQ(UrlUserinfo("https://u:p@h/r"), "u:p");
  EXPECT_EQ(UrlUserinfo("https://h/r@x"), "");
  EXPECT_EQ(UrlUserinfo("https://h?u=a@b"), "");
  EXPECT_EQ(UrlUserinfo("/local/path"), "");
}

}  // namespace
}  // namespace gitdisc
