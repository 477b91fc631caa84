#include "guest/ledger.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "guest/protocol_json.h"

namespace gitdisc::guest {
namespace {

using json = nlohmann::json;

constexpr int kFormat = 1;
constexpr uint64_t kMaxLedgerFileBytes = 64 << 20;

bool RanAtAll(Outcome o) {
  return o == Outcome::kOk || o == Outcome::kFailed || o == Outcome::kTimeout;
}

json OpToJson(const OpRecord& op, bool with_tails) {
  json results = json::array();
  for (const auto& r : op.results) results.push_back(PayloadResultToJson(r, with_tails));
  return {{"op_id", op.op_id},           {"manifest_digest", op.manifest_digest},
          {"payloads", op.payloads},     {"state", OpStateName(op.state)},
          {"results", results},          {"disc_released", op.disc_released},
          {"reboot", op.reboot},         {"message", op.message},
          {"started_at", op.started_at}, {"finished_at", op.finished_at},
          {"digests", op.digests}};
}

Status OpFromJson(const json& j, OpRecord* op) {
  try {
    op->op_id = j.at("op_id").get<std::string>();
    op->manifest_digest = j.at("manifest_digest").get<std::string>();
    op->payloads = j.at("payloads").get<std::vector<std::string>>();
    auto st = ParseOpState(j.at("state").get<std::string>());
    if (!st) return Status::Corrupt("ledger: bad op state");
    op->state = *st;
    for (const auto& r : j.at("results")) {
      PayloadResult pr;
      GITDISC_RETURN_IF_ERROR(PayloadResultFromJson(r, "ledger op " + op->op_id, &pr));
      op->results.push_back(std::move(pr));
    }
    op->disc_released = j.at("disc_released").get<bool>();
    op->reboot = j.at("reboot").get<bool>();
    op->message = j.at("message").get<std::string>();
    op->started_at = j.at("started_at").get<std::string>();
    op->finished_at = j.at("finished_at").get<std::string>();
    if (j.contains("digests")) {  // absent in ledgers written before it existed
      op->digests = j.at("digests").get<std::map<std::string, std::string>>();
    }
  } catch (const json::exception& e) {
    return Status::Corrupt(std::string("ledger: bad op: ") + e.what());
  }
  if (!IsValidOpId(op->op_id)) return Status::Corrupt("ledger: bad op id");
  return Status::Ok();
}

// Removes "<base>.tmp.*" left behind by a crash between write and rename.
void RemoveStaleTemps(const std::string& dir, const std::string& base) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::string prefix = base + ".tmp.";
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) == 0) {
      ::unlink(JoinPath(dir, name).c_str());
    }
  }
  ::closedir(d);
}

}  // namespace

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir) {
  GITDISC_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  RemoveStaleTemps(dir, "ledger.json");
  std::unique_ptr<Ledger> l(new Ledger(JoinPath(dir, "ledger.json")));
  Status s = l->Load();
  if (s.code() == Status::Code::kCorrupt) {
    std::string aside = l->path_ + ".corrupt";
    std::fprintf(stderr, "gitdisc-agent: %s; moved to %s, starting an empty ledger\n",
                 s.message().c_str(), aside.c_str());
    if (::rename(l->path_.c_str(), aside.c_str()) != 0) {
      return Status::FromErrno("rename " + l->path_, errno);
    }
    l->records_.clear();
    l->ops_.clear();
  } else if (!s.ok()) {
    return s;
  }
  // Operations that were running when the agent stopped will never finish.
  for (OpRecord op : l->ops_) {
    if (op.state != OpState::kRunning) continue;
    for (const auto& name : op.payloads) {
      bool have = std::any_of(op.results.begin(), op.results.end(),
                              [&](const PayloadResult& r) { return r.payload == name; });
      if (have) continue;
      PayloadResult r;
      r.op_id = op.op_id;
      r.payload = name;
      if (auto d = op.digests.find(name); d != op.digests.end()) r.digest = d->second;
      r.result = Outcome::kFailed;
      r.output_tail = "interrupted: the agent stopped while this operation was running";
      op.results.push_back(std::move(r));
    }
    op.state = OpState::kFinished;
    op.message = "interrupted: the agent stopped while this operation was running";
    op.finished_at = Rfc3339(std::chrono::system_clock::now());
    GITDISC_RETURN_IF_ERROR(l->SaveOp(op));
  }
  return l;
}

Status Ledger::Load() {
  if (!PathExists(path_)) return Status::Ok();
  GITDISC_ASSIGN_OR_RETURN(std::string text, ReadFile(path_, kMaxLedgerFileBytes));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corrupt(path_ + ": not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat) {
    return Status::Corrupt(path_ + ": unknown ledger format");
  }
  if (!j.contains("records") || !j["records"].is_array() || !j.contains("ops") ||
      !j["ops"].is_array()) {
    return Status::Corrupt(path_ + ": missing records or ops");
  }
  for (const auto& r : j["records"]) {
    PayloadResult pr;
    Status s = PayloadResultFromJson(r, path_ + " record", &pr);
    if (!s.ok()) return Status::Corrupt(s.message());
    records_.push_back(std::move(pr));
  }
  for (const auto& o : j["ops"]) {
    OpRecord op;
    Status s = OpFromJson(o, &op);
    if (!s.ok()) return Status::Corrupt(path_ + ": " + s.message());
    ops_.push_back(std::move(op));
  }
  return Status::Ok();
}

std::optional<OpRecord> Ledger::FindOp(const std::string& op_id) const {
  for (const auto& op : ops_) {
    if (op.op_id == op_id) return op;
  }
  return std::nullopt;
}

bool Ledger::IsApplied(const std::string& name, const std::string& digest) const {
  return std::any_of(records_.begin(), records_.end(), [&](const PayloadResult& r) {
    return r.payload == name && r.digest == digest && r.result == Outcome::kOk;
  });
}

std::map<std::string, std::string> Ledger::InstalledDigests() const {
  std::map<std::string, std::string> out;
  for (const auto& r : records_) {
    if (r.result == Outcome::kOk) out[r.payload] = r.digest;
  }
  return out;
}

Status Ledger::SaveOp(const OpRecord& op) {
  std::vector<OpRecord> ops = ops_;
  auto it =
      std::find_if(ops.begin(), ops.end(), [&](const OpRecord& o) { return o.op_id == op.op_id; });
  if (it != ops.end()) {
    *it = op;
  } else {
    ops.push_back(op);
  }
  if (ops.size() > kMaxLedgerOps) ops.erase(ops.begin(), ops.end() - kMaxLedgerOps);

  std::vector<PayloadResult> records = records_;
  for (const auto& r : op.results) {
    if (!RanAtAll(r.result)) continue;
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [&](const PayloadResult& old) {
                                   return old.payload == r.payload && old.digest == r.digest;
                                 }),
                  records.end());
    PayloadResult rec = r;
    rec.output_tail.clear();  // tails live with their op
    records.push_back(std::move(rec));
  }
  if (records.size() > kMaxLedgerRecords) {
    records.erase(records.begin(), records.end() - kMaxLedgerRecords);
  }
  GITDISC_RETURN_IF_ERROR(Persist(records, ops));
  records_ = std::move(records);
  ops_ = std::move(ops);
  return Status::Ok();
}

Status Ledger::Persist(const std::vector<PayloadResult>& records,
                       const std::vector<OpRecord>& ops) {
  json recs = json::array();
  for (const auto& r : records) recs.push_back(PayloadResultToJson(r, false));
  json jops = json::array();
  for (size_t i = 0; i < ops.size(); ++i) {
    jops.push_back(OpToJson(ops[i], /*with_tails=*/i + kOpsWithTails >= ops.size()));
  }
  json j = {{"format", kFormat}, {"records", recs}, {"ops", jops}};
  return WriteFileAtomic(path_, j.dump(1, ' ', false, json::error_handler_t::replace) + "\n", 0600);
}

}  // namespace gitdisc::guest
