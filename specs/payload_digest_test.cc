#include "specs/payload_digest.h"

#include <gtest/gtest.h>

#include "base/sha256.h"

namespace gitdisc::specs {
namespace {

Payload Motd() {
  Payload p;
  p.name = "motd";
  p.version = "1";
  p.source = PathSource{"payloads/motd"};
  p.run = {"./install.sh"};
  p.env = {{"GREETING", "hi"}};
  return p;
}

std::vector<PayloadFile> Files() {
  PayloadFile f;
  f.path = "install.sh";
  f.mode = 0755;
  f.size = 21;
  f.sha256 = Sha256Hex("#!/bin/sh\necho hello\n");
  return {f};
}

// The worked example of docs/git-source.md: the encoding is a contract with
// the disc manifest and every ledger, so it is pinned byte for byte.
TEST(PayloadDigest, MatchesTheDocumentedEncoding) {
  EXPECT_EQ(PayloadIdentityEncoding(Motd(), Files()),
            "{\"env\":{\"GREETING\":\"hi\"},\"files\":[{\"mode\":33261,\"path\":\"install.sh\","
            "\"sha256\":\"bfdeaeb08cffb6a36438bcd12dda25417e3cdd36f1e7e482a2849d539225288b\"}],"
            "\"name\":\"motd\",\"reboot\":\"never\",\"run\":[\"./install.sh\"],\"version\":\"1\"}");
  EXPECT_EQ(PayloadDigest(Motd(), Files()),
            "eb819be80f80bbccedb4ef4de425d62d25d756f78f18055eb47d70566bb2dcbb");
}

TEST(PayloadDigest, TimeoutAfterAndSourceAreNotIdentity) {
  Payload p = Motd();
  std::string d = PayloadDigest(p, Files());
  p.timeout = std::chrono::seconds(1);
  p.after = {"x"};
  p.source = FileSource{"/x", std::string(64, 'a')};
  EXPECT_EQ(PayloadDigest(p, Files()), d);
  p.reboot = RebootPolicy::kAlways;
  EXPECT_NE(PayloadDigest(p, Files()), d);
}

TEST(PayloadDigest, FileOrderDoesNotMatterButSymlinkTypeDoes) {
  PayloadFile a{"a", 0644, 1, Sha256Hex("x"), ""};
  PayloadFile b{"b", 0644, 1, Sha256Hex("y"), ""};
  EXPECT_EQ(ContentDigest({a, b}), ContentDigest({b, a}));
  PayloadFile link{"b", 0777, 1, Sha256Hex("y"), "y"};
  EXPECT_NE(ContentDigest({a, b}), ContentDigest({a, link}));
}

}  // namespace
}  // namespace gitdisc::specs
