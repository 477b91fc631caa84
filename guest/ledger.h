// Ledger: the agent's durable memory of what it applied (DESIGN.md §6).
//
// One JSON file, <state-dir>/ledger.json, replaced atomically on every change
// (base/file_util.h WriteFileAtomic: temp + fsync + rename + dir fsync), so a
// crash or power loss leaves either the previous or the new ledger, never a
// torn one; stale temp files from a crash are removed on Open and never read.
//
// It holds two lists:
//  - records: one per (payload name, digest), the latest run of that payload
//    content (ok, failed or timeout), oldest first, at most kMaxLedgerRecords.
//    "Applied" means a record with the same name and digest and result ok.
//  - ops: every operation (apply) by op id, with its per-payload results,
//    the newest kMaxLedgerOps; output tails are kept for the newest
//    kOpsWithTails. An op id found here is never run again.
//
// An op still marked running when the ledger is opened was interrupted (agent
// killed, guest reset): Open marks it finished, its unfinished payloads failed.
//
// Not thread-safe: the agent serialises access.
#ifndef GITDISC_GUEST_LEDGER_H_
#define GITDISC_GUEST_LEDGER_H_

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "guest/protocol.h"

namespace gitdisc::guest {

inline constexpr size_t kMaxLedgerRecords = 1024;
inline constexpr size_t kMaxLedgerOps = 256;
inline constexpr size_t kOpsWithTails = 16;

// One apply operation as the ledger keeps it.
struct OpRecord {
  std::string op_id;
  std::string manifest_digest;
  std::vector<std::string> payloads;  // as requested
  OpState state = OpState::kRunning;
  std::vector<PayloadResult> results;  // in run order
  // payload → its digest on the disc, saved once the manifest is verified and
  // before anything runs: an op interrupted by the agent's death is then
  // recorded as failed at the right digest, so the host sees the failure and
  // a retry gets a new op id (Ledger::Open).
  std::map<std::string, std::string> digests;
  bool disc_released = false;
  bool reboot = false;
  std::string message;
  std::string started_at;
  std::string finished_at;
  bool operator==(const OpRecord&) const = default;
};

class Ledger {
 public:
  // Opens (or creates) <dir>/ledger.json; dir is created if missing. A ledger
  // that cannot be parsed is moved aside to ledger.json.corrupt (logged to
  // stderr) and an empty one starts: the agent must keep serving.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& dir);

  const std::vector<PayloadResult>& records() const { return records_; }
  const std::vector<OpRecord>& ops() const { return ops_; }
  std::optional<OpRecord> FindOp(const std::string& op_id) const;
  // True when name was applied with this digest and result ok.
  bool IsApplied(const std::string& name, const std::string& digest) const;
  // Per payload name, the digest of its most recent successful run: the
  // content installed now (records move to the end when updated).
  std::map<std::string, std::string> InstalledDigests() const;

  // Inserts or replaces the op (by op id), folds its ok/failed/timeout results
  // into records, and persists. On failure the in-memory state is unchanged.
  Status SaveOp(const OpRecord& op);

  const std::string& path() const { return path_; }

 private:
  explicit Ledger(std::string path) : path_(std::move(path)) {}
  Status Load();
  Status Persist(const std::vector<PayloadResult>& records, const std::vector<OpRecord>& ops);

  std::string path_;
  std::vector<PayloadResult> records_;
  std::vector<OpRecord> ops_;  // oldest first
};

// RFC 3339 UTC with seconds: "2026-11-24T23:51:22Z".
std::string Rfc3339(std::chrono::system_clock::time_point t);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_LEDGER_H_
