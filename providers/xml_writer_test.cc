#include "providers/xml_writer.h"

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(XmlWriter, NestsElementsAndSelfClosesEmptyOnes) {
  XmlWriter w;
  w.Start("a").Attr("x", "1");
  w.Start("b").End();
  w.Element("c", "text");
  w.Start("d").EndFull();
  EXPECT_EQ(w.Finish(), "<a x=\"1\"><b/><c>text</c><d></d></a>");
}

TEST(XmlWriter, FinishClosesWhatIsOpen) {
  XmlWriter w;
  w.Start("a").Start("b").Start("c");
  EXPECT_EQ(w.Finish(), "<a><b><c/></b></a>");
}

TEST(XmlWriter, EscapesTextAndAttributes) {
  XmlWriter w;
  w.Start("a").Attr("v", "\"/><evil a='").Text("</a><evil/>&amp;");
  EXPECT_EQ(w.Finish(), "<a v=\"&quot;/&gt;&lt;evil a='\">&lt;/a&gt;&lt;evil/&gt;&amp;amp;</a>");
}

TEST(XmlWriter, DeclaresANamespaceOnce) {
  XmlWriter w;
  w.StartNs("g", "labels", "urn:gitdisc:labels:1");
  w.StartNs("g", "label").Attr("key", "k").End();
  EXPECT_EQ(w.Finish(),
            "<g:labels xmlns:g=\"urn:gitdisc:labels:1\"><g:label key=\"k\"/></g:labels>");
}

}  // namespace
}  // namespace gitdisc
