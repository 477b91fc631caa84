#include "providers/storage_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gitdisc {
namespace {

TEST(StorageXml, DirPoolNamesItsFolderWithSearchableMode) {
  EXPECT_EQ(DirPoolXml("gitdisc", "/var/lib/libvirt/gitdisc"),
            "<pool type=\"dir\"><name>gitdisc</name><target><path>/var/lib/libvirt/gitdisc</path>"
            "<permissions><mode>0755</mode></permissions></target></pool>");
}

TEST(StorageXml, AFolderCannotAddMarkup) {
  EXPECT_EQ(DirPoolXml("gitdisc", "/x</path><path>/etc"),
            "<pool type=\"dir\"><name>gitdisc</name><target><path>/x&lt;/path&gt;&lt;path&gt;/etc"
            "</path><permissions><mode>0755</mode></permissions></target></pool>");
}

TEST(StorageXml, RawVolumeWithCapacityAndNothingAllocated) {
  EXPECT_EQ(RawVolumeXml("ab.iso", 3145851),
            "<volume><name>ab.iso</name><capacity unit=\"bytes\">3145851</capacity>"
            "<allocation unit=\"bytes\">0</allocation><target><format type=\"raw\"/>"
            "<permissions><mode>0644</mode></permissions></target></volume>");
  EXPECT_THAT(RawVolumeXml("a&b", 0), ::testing::HasSubstr("<name>a&amp;b</name>"));
}

}  // namespace
}  // namespace gitdisc
