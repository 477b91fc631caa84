#include "base/markup_escape.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(EscapeMarkup, EscapesEverythingThatEndsTextOrAnAttribute) {
  EXPECT_EQ(EscapeMarkup("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(EscapeMarkup, LeavesOtherBytesAloneIncludingUtf8) {
  EXPECT_EQ(EscapeMarkup(""), "");
  EXPECT_EQ(EscapeMarkup("web-1 /var/lib/x.iso"), "web-1 /var/lib/x.iso");
  EXPECT_EQ(EscapeMarkup("caf\xc3\xa9 &amp;"), "caf\xc3\xa9 &amp;amp;");
}

}  // namespace
}  // namespace gitdisc
