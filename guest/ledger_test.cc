#include "guest/ledger.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file_util.h"
#include "tests/support/temp_dir.h"

namespace gitdisc::guest {
namespace {

using ::gitdisc::testing::TempDir;

PayloadResult Ran(const std::string& op, const std::string& name, char digest, Outcome o) {
  PayloadResult r;
  r.op_id = op;
  r.payload = name;
  r.version = "1";
  r.digest = std::string(64, digest);
  r.result = o;
  r.exit_code = o == Outcome::kOk ? 0 : 1;
  r.started_at = "2026-11-24T23:00:00Z";
  r.finished_at = "2026-11-24T23:00:01Z";
  r.output_tail = "out of " + name;
  return r;
}

OpRecord Op(const std::string& id, std::vector<PayloadResult> results) {
  OpRecord op;
  op.op_id = id;
  op.manifest_digest = std::string(64, 'f');
  for (const auto& r : results) op.payloads.push_back(r.payload);
  op.state = OpState::kFinished;
  op.results = std::move(results);
  op.disc_released = true;
  return op;
}

TEST(Ledger, PersistsOpsAndRecordsAcrossReopen) {
  TempDir dir("ledger");
  {
    auto l = Ledger::Open(dir.path());
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ASSERT_TRUE((*l)->SaveOp(Op("op-1", {Ran("op-1", "motd", 'a', Outcome::kOk),
                                         Ran("op-1", "tools", 'b', Outcome::kFailed)}))
                    .ok());
  }
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE((*l)->IsApplied("motd", std::string(64, 'a')));
  EXPECT_FALSE((*l)->IsApplied("motd", std::string(64, 'c')));
  EXPECT_FALSE((*l)->IsApplied("tools", std::string(64, 'b')));  // failed is not applied
  auto op = (*l)->FindOp("op-1");
  ASSERT_TRUE(op.has_value());
  ASSERT_EQ(op->results.size(), 2u);
  EXPECT_EQ(op->results[1].output_tail, "out of tools");
  EXPECT_EQ((*l)->records().size(), 2u);
  EXPECT_FALSE((*l)->FindOp("op-2").has_value());
}

TEST(Ledger, LatestRunOfTheSameContentReplacesTheRecord) {
  TempDir dir("ledger");
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->SaveOp(Op("op-1", {Ran("op-1", "motd", 'a', Outcome::kFailed)})).ok());
  ASSERT_TRUE((*l)->SaveOp(Op("op-2", {Ran("op-2", "motd", 'a', Outcome::kOk)})).ok());
  ASSERT_EQ((*l)->records().size(), 1u);
  EXPECT_EQ((*l)->records()[0].op_id, "op-2");
  EXPECT_TRUE((*l)->IsApplied("motd", std::string(64, 'a')));
  // A skipped or refused result is not a run: it does not touch the records.
  PayloadResult skipped = Ran("op-3", "motd", 'a', Outcome::kSkipped);
  ASSERT_TRUE((*l)->SaveOp(Op("op-3", {skipped})).ok());
  EXPECT_TRUE((*l)->IsApplied("motd", std::string(64, 'a')));
}

TEST(Ledger, CrashBetweenWriteAndRenameLeavesOldContentAndStaleTempIsIgnored) {
  TempDir dir("ledger");
  {
    auto l = Ledger::Open(dir.path());
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->SaveOp(Op("op-1", {Ran("op-1", "motd", 'a', Outcome::kOk)})).ok());
  }
  std::string path = JoinPath(dir.path(), "ledger.json");
  auto before = ReadFile(path);
  ASSERT_TRUE(before.ok());
  // What WriteFileAtomic leaves when the process dies after writing the temp
  // file but before renaming it: a half-written new ledger beside the old one.
  std::string stale = path + ".tmp.4242.99";
  {
    FILE* f = ::fopen(stale.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("{\"format\":1,\"records\":[{\"payload\":\"evil\"", f);
    std::fclose(f);
  }
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE((*l)->IsApplied("motd", std::string(64, 'a')));
  EXPECT_FALSE(PathExists(stale));
  EXPECT_EQ(*ReadFile(path), *before);
}

TEST(Ledger, InterruptedOpIsFinishedAsFailedOnOpen) {
  TempDir dir("ledger");
  {
    auto l = Ledger::Open(dir.path());
    ASSERT_TRUE(l.ok());
    OpRecord op = Op("op-9", {Ran("op-9", "first", 'a', Outcome::kOk)});
    op.payloads.push_back("second");
    op.digests = {{"first", std::string(64, 'a')}, {"second", std::string(64, 'b')}};
    op.state = OpState::kRunning;
    op.disc_released = false;
    ASSERT_TRUE((*l)->SaveOp(op).ok());
  }
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok());
  auto op = (*l)->FindOp("op-9");
  ASSERT_TRUE(op.has_value());
  EXPECT_EQ(op->state, OpState::kFinished);
  ASSERT_EQ(op->results.size(), 2u);
  EXPECT_EQ(op->results[1].payload, "second");
  EXPECT_EQ(op->results[1].result, Outcome::kFailed);
  EXPECT_NE(op->message.find("interrupted"), std::string::npos);
  EXPECT_TRUE((*l)->IsApplied("first", std::string(64, 'a')));
  // The failure is in the records at the digest the disc had: the host sees
  // it (and a retry gets a new op id), rather than a record at no digest.
  bool recorded = false;
  for (const auto& r : (*l)->records()) {
    recorded |= r.payload == "second" && r.digest == std::string(64, 'b') &&
                r.result == Outcome::kFailed;
  }
  EXPECT_TRUE(recorded);
}

TEST(Ledger, CorruptLedgerIsMovedAsideNotFatal) {
  TempDir dir("ledger");
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir.path(), "ledger.json"), "{not json").ok());
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE((*l)->records().empty());
  EXPECT_TRUE(PathExists(JoinPath(dir.path(), "ledger.json.corrupt")));
}

TEST(Ledger, KeepsOnlyTheNewestOps) {
  TempDir dir("ledger");
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok());
  for (size_t i = 0; i < kMaxLedgerOps + 3; ++i) {
    std::string id = "op-" + std::to_string(i);
    ASSERT_TRUE((*l)->SaveOp(Op(id, {Ran(id, "p", 'a', Outcome::kOk)})).ok());
  }
  EXPECT_EQ((*l)->ops().size(), kMaxLedgerOps);
  EXPECT_FALSE((*l)->FindOp("op-0").has_value());
  EXPECT_TRUE((*l)->FindOp("op-" + std::to_string(kMaxLedgerOps + 2)).has_value());
  EXPECT_TRUE((*l)->IsApplied("p", std::string(64, 'a')));
}

TEST(Ledger, Rfc3339) {
  EXPECT_EQ(Rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(0))),
            "1970-01-01T00:00:00Z");
}

TEST(Ledger, InstalledDigestIsTheLatestSuccessfulRun) {
  TempDir dir("ledger");
  auto l = Ledger::Open(dir.path());
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->SaveOp(Op("op-1", {Ran("op-1", "app", 'a', Outcome::kOk)})).ok());
  ASSERT_TRUE((*l)->SaveOp(Op("op-2", {Ran("op-2", "app", 'b', Outcome::kOk)})).ok());
  ASSERT_TRUE((*l)->SaveOp(Op("op-3", {Ran("op-3", "app", 'c', Outcome::kFailed),
                                       Ran("op-3", "new", 'd', Outcome::kFailed)}))
                  .ok());
  EXPECT_EQ((*l)->InstalledDigests(),
            (std::map<std::string, std::string>{{"app", std::string(64, 'b')}}));
  // Back to an earlier digest: its record moves to the end.
  ASSERT_TRUE((*l)->SaveOp(Op("op-4", {Ran("op-4", "app", 'a', Outcome::kOk)})).ok());
  EXPECT_EQ((*l)->InstalledDigests().at("app"), std::string(64, 'a'));
}

}  // namespace
}  // namespace gitdisc::guest
