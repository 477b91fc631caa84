#include "serve/host_check.h"

#include <gtest/gtest.h>

namespace gitdisc::serve {
namespace {

TEST(HostAllowed, ComparesTheHostWithoutItsPort) {
  std::vector<std::string> allowed = {"gitdisc.example", "::1", "127.0.0.1"};
  EXPECT_TRUE(HostAllowed("gitdisc.example", allowed));
  EXPECT_TRUE(HostAllowed("GitDisc.Example:9420", allowed));
  EXPECT_TRUE(HostAllowed("gitdisc.example.:443", allowed));
  EXPECT_TRUE(HostAllowed("[::1]:9420", allowed));
  EXPECT_TRUE(HostAllowed("127.0.0.1:9420", allowed));
  EXPECT_FALSE(HostAllowed("evil.example", allowed));
  EXPECT_FALSE(HostAllowed("gitdisc.example.evil.example", allowed));
  EXPECT_FALSE(HostAllowed(std::nullopt, allowed)) << "no Host header";
  EXPECT_FALSE(HostAllowed("", allowed));
  EXPECT_FALSE(HostAllowed("[::1", allowed));
  EXPECT_FALSE(HostAllowed("::1", allowed)) << "a bare IPv6 literal is not a Host header";
  EXPECT_TRUE(HostAllowed("anything", {})) << "no list: no check";
  EXPECT_TRUE(HostAllowed(std::nullopt, {}));
}

TEST(DefaultAllowedHosts, LoopbackListenersAcceptOnlyLoopbackNames) {
  auto hosts = DefaultAllowedHosts("127.0.0.1");
  EXPECT_TRUE(HostAllowed("localhost:9420", hosts));
  EXPECT_TRUE(HostAllowed("127.0.0.1:9420", hosts));
  EXPECT_TRUE(HostAllowed("[::1]:9420", hosts));
  EXPECT_FALSE(HostAllowed("rebound.attacker.example:9420", hosts));
  EXPECT_TRUE(HostAllowed("127.0.0.5:9420", DefaultAllowedHosts("127.0.0.5")));
  EXPECT_TRUE(HostAllowed("[::1]", DefaultAllowedHosts("::1")));
  EXPECT_TRUE(DefaultAllowedHosts("0.0.0.0").empty());
  EXPECT_TRUE(DefaultAllowedHosts("10.1.2.3").empty());
}

}  // namespace
}  // namespace gitdisc::serve
