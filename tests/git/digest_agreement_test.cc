// The payload identity computed from Git (specs/) and the one the bundle
// writer computes for a disc's manifest (iso/) must be the same bytes: a VM's
// ledger records one, the planner compares with the other.
#include <gtest/gtest.h>

#include "base/sha256.h"
#include "iso/bundle.h"
#include "specs/payload_digest.h"

namespace gitdisc {
namespace {

TEST(DigestAgreement, SpecsAndIsoComputeTheSamePayloadDigest) {
  specs::Payload p;
  p.name = "motd";
  p.version = "3.0.22-1";
  p.run = {"/bin/sh", "-c", "dpkg -i *.deb"};
  p.env = {{"B", "2"}, {"A", "ü"}};
  p.reboot = specs::RebootPolicy::kIfRequested;
  std::vector<specs::PayloadFile> files = {
      {"z/install.sh", 0755, 10, Sha256Hex("run"), ""},
      {"a.txt", 0644, 3, Sha256Hex("abc"), ""},
      {"link", 0777, 5, Sha256Hex("a.txt"), "a.txt"},
  };
  iso::BundlePayload b;
  b.name = p.name;
  b.version = p.version;
  b.run = p.run;
  b.env = p.env;
  b.reboot = specs::RebootPolicyName(p.reboot);
  for (const auto& f : files) {
    iso::BundleFile bf;
    bf.path = f.path;
    bf.mode = f.mode;
    bf.size = f.size;
    bf.sha256 = f.sha256;
    bf.symlink_target = f.symlink_target;
    b.files.push_back(bf);
  }
  EXPECT_EQ(specs::PayloadDigest(p, files), iso::ComputePayloadDigest(b));
}

}  // namespace
}  // namespace gitdisc
