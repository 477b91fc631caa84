#include "base/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace gitdisc {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::Invalid("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  GITDISC_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, FromErrnoMapsCodes) {
  EXPECT_TRUE(Status::FromErrno("open x", ENOENT).IsNotFound());
  EXPECT_EQ(Status::FromErrno("open x", EACCES).code(), Status::Code::kPermission);
  EXPECT_EQ(Status::FromErrno("open x", EIO).code(), Status::Code::kIo);
  EXPECT_NE(Status::FromErrno("open x", ENOENT).message().find("open x: "), std::string::npos);
}

TEST(Status, TransientOnlyForUnavailableAndTimeout) {
  EXPECT_TRUE(Status::Unavailable("x").transient());
  EXPECT_TRUE(Status::Timeout("x").transient());
  EXPECT_FALSE(Status::Invalid("x").transient());
  EXPECT_FALSE(Status::Corrupt("x").transient());
}

TEST(Status, AnnotateKeepsCode) {
  Status s = Status::NotFound("no such VM").Annotate("insert");
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "insert: no such VM");
}

TEST(Result, PropagatesErrorsThroughAssignOrReturn) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd");
}

}  // namespace
}  // namespace gitdisc
