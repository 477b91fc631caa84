#include "guest/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace gitdisc::guest {
namespace {

const std::string kDigest(64, 'a');

TEST(Protocol, HostMessagesRoundTrip) {
  std::vector<HostMessage> msgs = {
      HelloRequest{1, 1, "gitdisc/0.1.0"},
      LedgerRequest{2},
      ApplyRequest{3, "op-1", kDigest, {"motd", "tools"}},
      StatusRequest{4, std::nullopt},
      StatusRequest{5, std::string("op-1")},
  };
  for (const auto& m : msgs) {
    std::string line = EncodeHostMessage(m);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto back = DecodeHostMessage(line);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << line;
    EXPECT_EQ(*back, m) << line;
  }
}

PayloadResult SampleResult() {
  PayloadResult r;
  r.op_id = "op-1";
  r.payload = "motd";
  r.version = "2";
  r.digest = kDigest;
  r.result = Outcome::kFailed;
  r.exit_code = 3;
  r.started_at = "2026-11-24T23:51:22Z";
  r.finished_at = "2026-11-24T23:51:23Z";
  r.output_tail = "line 1\nline \"2\"\n";
  r.reboot = true;
  return r;
}

TEST(Protocol, AgentMessagesRoundTrip) {
  PayloadResult r = SampleResult();
  OpStatus op;
  op.op_id = "op-1";
  op.state = OpState::kFinished;
  op.manifest_digest = kDigest;
  op.results = {r};
  op.disc_released = true;
  std::vector<AgentMessage> msgs = {
      HelloReply{1, 1, "0.1.0", {"apply", "ledger"}},
      ApplyAccepted{3, "op-1", OpState::kRunning},
      StatusReply{4, {op}},
      ProgressEvent{"op-1", "motd", "run", "starting ./install.sh"},
      ResultEvent{r},
      DoneEvent{"op-1", {r}, true, true, ""},
      ErrorReply{7, ErrorCode::kBusy, "op-2 is running"},
      ErrorReply{std::nullopt, ErrorCode::kMalformed, "not JSON"},
  };
  for (const auto& m : msgs) {
    std::string line = EncodeAgentMessage(m);
    auto back = DecodeAgentMessage(line);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << line;
    EXPECT_EQ(*back, m) << line;
  }
}

TEST(Protocol, LedgerReplyLeavesOutOutputTails) {
  PayloadResult r = SampleResult();
  auto back = DecodeAgentMessage(EncodeAgentMessage(LedgerReply{9, {r}}));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto& reply = std::get<LedgerReply>(*back);
  ASSERT_EQ(reply.records.size(), 1u);
  EXPECT_EQ(reply.records[0].output_tail, "");
  EXPECT_EQ(reply.records[0].digest, kDigest);
}

struct Bad {
  const char* line;
  const char* why;  // substring of the error message
};

TEST(Protocol, RejectsEveryMalformedHostMessage) {
  const std::string d = kDigest;
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not JSON"},
      {"{", "not JSON"},
      {"nul", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {"\"hello\"", "not a JSON object"},
      {"42", "not a JSON object"},
      {"{}", "type"},
      {R"({"type":5,"id":1})", "type"},
      {R"({"type":"launch","id":1})", "unknown message type"},
      {R"({"type":"done","op_id":"x","results":[],"disc_released":true})", "unknown message type"},
      {R"({"type":"hello"})", "missing field \"id\""},
      {R"({"type":"hello","id":"1","protocol":1})", "must be an integer"},
      {R"({"type":"hello","id":0,"protocol":1})", "out of range"},
      {R"({"type":"hello","id":-4,"protocol":1})", "out of range"},
      {R"({"type":"hello","id":1.5,"protocol":1})", "must be an integer"},
      {R"({"type":"hello","id":18446744073709551615,"protocol":1})", "out of range"},
      {R"({"type":"hello","id":1})", "missing field \"protocol\""},
      {R"({"type":"hello","id":1,"protocol":1,"client":7})", "must be a string"},
      {R"({"type":"hello","id":1,"protocol":1,"extra":true})", "unknown field \"extra\""},
      {R"({"type":"hello","id":1,"protocol":1,"client":")" + std::string(5000, 'x') + "\"}",
       "longer than"},
      {R"({"type":"ledger","id":1,"all":true})", "unknown field"},
      {R"({"type":"apply","id":1,"manifest_digest":")" + d + R"(","payloads":["a"]})",
       "missing field \"op_id\""},
      {R"({"type":"apply","id":1,"op_id":"","manifest_digest":")" + d + R"(","payloads":["a"]})",
       "op_id"},
      {R"({"type":"apply","id":1,"op_id":"a b","manifest_digest":")" + d + R"(","payloads":["a"]})",
       "op_id"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":"abc","payloads":["a"]})",
       "manifest_digest"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + std::string(64, 'A') +
           R"(","payloads":["a"]})",
       "manifest_digest"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d + R"("})",
       "missing field \"payloads\""},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d + R"(","payloads":"a"})",
       "must be an array"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d + R"(","payloads":[]})",
       "must not be empty"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d + R"(","payloads":[1]})",
       "payload names"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d +
           R"(","payloads":["../etc"]})",
       "payload names"},
      {R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d +
           R"(","payloads":["a","a"]})",
       "named twice"},
      {R"({"type":"status","id":1,"op_id":null})", "must be a string"},
      {R"({"type":"status","id":1,"op_id":"x/y"})", "op_id"},
  };
  std::string many =
      R"({"type":"apply","id":1,"op_id":"o","manifest_digest":")" + d + R"(","payloads":[)";
  for (int i = 0; i < 65; ++i) many += (i ? ",\"p" : "\"p") + std::to_string(i) + "\"";
  cases.push_back({many + "]}", "more than 64"});
  for (const auto& [line, why] : cases) {
    auto r = DecodeHostMessage(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << line;
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << line << " -> " << r.status().message();
  }
}

TEST(Protocol, RejectsMalformedAgentMessages) {
  std::vector<std::string> cases = {
      R"({"type":"apply","id":1})",  // a request is not an agent message
      R"({"type":"hello","id":1,"protocol":1,"agent_version":"x","capabilities":[1]})",
      R"({"type":"accepted","id":1,"op_id":"o","state":"unknown"})",
      R"({"type":"result","op_id":"o","payload":"p","version":"1","digest":"","result":"great","exit_code":0,"started_at":"","finished_at":""})",
      R"({"type":"result","op_id":"o","payload":"p","version":"1","digest":"","result":"ok","exit_code":999,"started_at":"","finished_at":""})",
      R"({"type":"done","op_id":"o","results":[]})",
      R"({"type":"done","op_id":"o","results":[{}],"disc_released":true})",
      R"({"type":"error","code":"oops","message":"x"})",
      R"({"type":"status","id":1,"ops":[{"op_id":"o","state":"running","surprise":1}]})",
      R"({"type":"ledger","id":1,"records":{}})",
  };
  for (const auto& line : cases) {
    EXPECT_FALSE(DecodeAgentMessage(line).ok()) << line;
  }
}

TEST(Protocol, ErrorForBadLineKeepsIdAndClassifies) {
  Status why = Status::Invalid("x");
  EXPECT_EQ(ErrorForBadLine("{nope", why).code, ErrorCode::kMalformed);
  EXPECT_EQ(ErrorForBadLine("[]", why).code, ErrorCode::kMalformed);
  ErrorReply e = ErrorForBadLine(R"({"type":"zap","id":17})", why);
  EXPECT_EQ(e.code, ErrorCode::kInvalid);
  EXPECT_EQ(e.id, std::optional<uint64_t>(17));
  EXPECT_EQ(ErrorForBadLine(R"({"type":"zap","id":"17"})", why).id, std::nullopt);
  EXPECT_EQ(ErrorForBadLine(std::string(kMaxLineBytes + 1, ' '), why).code, ErrorCode::kTooLong);
}

TEST(Protocol, EncodingBoundsHugeOutputTails) {
  PayloadResult r = SampleResult();
  r.output_tail = std::string(kMaxOutputTailBytes, '\x01');  // escapes to 6x its size
  DoneEvent done{"op-1", {}, true, false, ""};
  for (int i = 0; i < 20; ++i) done.results.push_back(r);
  std::string line = EncodeAgentMessage(done);
  EXPECT_LE(line.size(), kMaxLineBytes);
  auto back = DecodeAgentMessage(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto& d = std::get<DoneEvent>(*back);
  ASSERT_EQ(d.results.size(), 20u);
  EXPECT_LT(d.results[0].output_tail.size(), r.output_tail.size());
}

TEST(Protocol, InvalidUtf8IsReplacedNotFatal) {
  PayloadResult r = SampleResult();
  r.output_tail = std::string("ok \xff\xfe bytes");
  auto back = DecodeAgentMessage(EncodeAgentMessage(ResultEvent{r}));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_NE(std::get<ResultEvent>(*back).result.output_tail.find("bytes"), std::string::npos);
}

TEST(Protocol, BoundedUtf8TailKeepsTheEndAtACharBoundary) {
  EXPECT_EQ(BoundedUtf8Tail("abc\xff", 10), "abc?");
  EXPECT_EQ(BoundedUtf8Tail("0123456789", 4), "6789");
  // "é" is two bytes; cutting through it must not leave a continuation byte.
  std::string t = BoundedUtf8Tail("x\xc3\xa9yz", 4);
  EXPECT_EQ(t, "\xc3\xa9yz");
  EXPECT_EQ(BoundedUtf8Tail("x\xc3\xa9yz", 3), "yz");
  EXPECT_EQ(BoundedUtf8Tail("\xc0\xaf", 10), "??");  // overlong '/'
}

TEST(Protocol, FieldRules) {
  EXPECT_TRUE(IsValidPayloadName("motd"));
  EXPECT_TRUE(IsValidPayloadName("agent-plugin_1.4"));
  EXPECT_FALSE(IsValidPayloadName(".hidden"));
  EXPECT_FALSE(IsValidPayloadName("a/b"));
  EXPECT_FALSE(IsValidPayloadName(std::string(64, 'a')));
  EXPECT_TRUE(IsValidOpId("reconcile:web-1:2026-11-24T23.51"));
  EXPECT_FALSE(IsValidOpId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidDigest(kDigest));
  EXPECT_FALSE(IsValidDigest(std::string(63, 'a')));
}

}  // namespace
}  // namespace gitdisc::guest
