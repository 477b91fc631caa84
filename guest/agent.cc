#include "guest/agent.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "base/file_util.h"
#include "guest/apply_operation.h"
#include "guest/ledger.h"
#include "guest/line_reader.h"
#include "guest/payload_store.h"
#include "guest/protocol.h"

namespace gitdisc::guest {

namespace {

std::string Now() { return Rfc3339(std::chrono::system_clock::now()); }

void Log(const std::string& msg) { std::fprintf(stderr, "gitdisc-agent: %s\n", msg.c_str()); }

}  // namespace

struct Agent::State {
  AgentOptions options;
  std::unique_ptr<AgentSystem> system;
  std::unique_ptr<PayloadStore> store;  // used by one apply worker at a time

  std::mutex mu;  // guards everything below
  std::condition_variable idle_cv;
  std::unique_ptr<Ledger> ledger;
  bool running = false;
  OpRecord current;  // valid while running
  std::string phase;
  std::string payload;
  std::vector<std::string> unreported;  // finished since the last status without op_id
  std::thread worker;

  std::mutex out_mu;  // guards out and serialises writes
  ByteStream* out = nullptr;

  void Send(const AgentMessage& m) {
    std::string line = EncodeAgentMessage(m);
    std::lock_guard<std::mutex> l(out_mu);
    if (!out) return;
    Status s = out->Write(line);
    if (!s.ok()) Log("send failed (host gone?): " + s.ToString());
  }

  void Progress(const std::string& op_id, const std::string& payload_name,
                const std::string& phase_name, const std::string& message) {
    {
      std::lock_guard<std::mutex> l(mu);
      phase = phase_name;
      payload = payload_name;
    }
    Log(op_id + (payload_name.empty() ? "" : " " + payload_name) + " [" + phase_name + "] " +
        message);
    Send(ProgressEvent{op_id, payload_name, phase_name, message.substr(0, kMaxTextBytes)});
  }

  static OpStatus ToStatus(const OpRecord& op) {
    OpStatus s;
    s.op_id = op.op_id;
    s.state = op.state;
    s.manifest_digest = op.manifest_digest;
    s.results = op.results;
    s.disc_released = op.disc_released;
    s.reboot = op.reboot;
    s.message = op.message;
    return s;
  }

  static DoneEvent ToDone(const OpRecord& op) {
    return DoneEvent{op.op_id, op.results, op.disc_released, op.reboot, op.message};
  }

  void Handle(const HostMessage& msg);
  void RunApply(OpRecord op);
  // Records the op (results so far) durably; logs and carries on if the
  // state dir fails: the host still gets the results.
  void Save(const OpRecord& op) {
    std::lock_guard<std::mutex> l(mu);
    current = op;
    Status s = ledger->SaveOp(op);
    if (!s.ok()) Log("ledger write failed: " + s.ToString());
  }
};

Result<std::unique_ptr<Agent>> Agent::Create(AgentOptions options,
                                             std::unique_ptr<AgentSystem> system) {
  std::unique_ptr<Agent> a(new Agent());
  a->s_ = std::make_unique<State>();
  GITDISC_ASSIGN_OR_RETURN(a->s_->ledger, Ledger::Open(options.state_dir));
  GITDISC_ASSIGN_OR_RETURN(a->s_->store,
                           PayloadStore::Open(JoinPath(options.state_dir, "payloads")));
  Status pruned = a->s_->store->Prune(a->s_->ledger->InstalledDigests());
  if (!pruned.ok()) Log("cleaning the kept payload copies: " + pruned.ToString());
  // Left by agents before 0.2, which mounted or extracted the disc there.
  (void)RemoveAll(JoinPath(JoinPath(options.state_dir, "run"), "extract"));
  a->s_->options = std::move(options);
  a->s_->system = std::move(system);
  return a;
}

Agent::~Agent() {
  if (!s_) return;
  WaitIdle();
  if (s_->worker.joinable()) s_->worker.join();
}

void Agent::WaitIdle() {
  std::unique_lock<std::mutex> l(s_->mu);
  s_->idle_cv.wait(l, [&] { return !s_->running; });
}

Status Agent::Serve(ByteStream* stream) {
  {
    std::lock_guard<std::mutex> l(s_->out_mu);
    s_->out = stream;
  }
  LineReader reader(stream, kMaxLineBytes);
  Status result = Status::Ok();
  for (;;) {
    Result<std::string> line = reader.ReadLine(std::chrono::milliseconds(1000));
    if (!line.ok()) {
      Status st = line.status();
      if (st.code() == Status::Code::kTimeout) continue;
      if (st.code() == Status::Code::kInvalid) {  // over-long line, already skipped
        s_->Send(ErrorReply{std::nullopt, ErrorCode::kTooLong, st.message()});
        continue;
      }
      if (st.code() != Status::Code::kUnavailable) result = st;
      break;
    }
    if (line->empty()) continue;  // tolerate blank lines (a host's keep-alive)
    Result<HostMessage> msg = DecodeHostMessage(*line);
    if (!msg.ok()) {
      s_->Send(ErrorForBadLine(*line, msg.status()));
      continue;
    }
    s_->Handle(*msg);
  }
  std::lock_guard<std::mutex> l(s_->out_mu);
  s_->out = nullptr;
  return result;
}

void Agent::State::Handle(const HostMessage& msg) {
  if (auto* m = std::get_if<HelloRequest>(&msg)) {
    if (m->protocol != kProtocolVersion) {
      Send(ErrorReply{m->id, ErrorCode::kUnsupportedVersion,
                      "this agent speaks protocol " + std::to_string(kProtocolVersion) + ", not " +
                          std::to_string(m->protocol)});
      return;
    }
    Send(HelloReply{m->id,
                    kProtocolVersion,
                    options.version,
                    {"ledger", "apply", "status", "reboot", "copy", "volume-id"}});
    return;
  }
  if (auto* m = std::get_if<LedgerRequest>(&msg)) {
    LedgerReply reply{m->id, {}};
    {
      std::lock_guard<std::mutex> l(mu);
      reply.records = ledger->records();
    }
    Send(reply);
    return;
  }
  if (auto* m = std::get_if<StatusRequest>(&msg)) {
    StatusReply reply{m->id, {}};
    std::lock_guard<std::mutex> l(mu);
    auto running_status = [&] {
      OpStatus s = ToStatus(current);
      s.state = OpState::kRunning;
      s.phase = phase;
      s.payload = payload;
      return s;
    };
    if (m->op_id) {
      if (running && current.op_id == *m->op_id) {
        reply.ops.push_back(running_status());
      } else if (auto op = ledger->FindOp(*m->op_id)) {
        reply.ops.push_back(ToStatus(*op));
      } else {
        OpStatus unknown;
        unknown.op_id = *m->op_id;
        unknown.state = OpState::kUnknown;
        reply.ops.push_back(unknown);
      }
    } else {
      if (running) reply.ops.push_back(running_status());
      for (const auto& id : unreported) {
        if (auto op = ledger->FindOp(id)) reply.ops.push_back(ToStatus(*op));
      }
      unreported.clear();
    }
    // Send outside mu would be nicer, but Send only takes out_mu and the
    // worker never holds out_mu while taking mu.
    Send(reply);
    return;
  }
  const auto& m = std::get<ApplyRequest>(msg);
  std::unique_lock<std::mutex> l(mu);
  if (running && current.op_id == m.op_id) {
    l.unlock();
    Send(ApplyAccepted{m.id, m.op_id, OpState::kRunning});
    return;
  }
  if (auto op = ledger->FindOp(m.op_id)) {
    l.unlock();
    Log("apply " + m.op_id + ": seen before, reporting its recorded results");
    Send(ApplyAccepted{m.id, m.op_id, OpState::kFinished});
    Send(ToDone(*op));
    return;
  }
  if (running) {
    std::string other = current.op_id;
    l.unlock();
    Send(ErrorReply{m.id, ErrorCode::kBusy, "operation " + other + " is running"});
    return;
  }
  OpRecord op;
  op.op_id = m.op_id;
  op.manifest_digest = m.manifest_digest;
  op.payloads = m.payloads;
  op.state = OpState::kRunning;
  op.started_at = Now();
  // Recorded before anything runs: the op id is now "seen", even across a crash.
  Status saved = ledger->SaveOp(op);
  if (!saved.ok()) {
    l.unlock();
    Send(ErrorReply{m.id, ErrorCode::kInternal,
                    "cannot record the operation: " + saved.message().substr(0, 1000)});
    return;
  }
  running = true;
  current = op;
  phase = "accepted";
  payload.clear();
  if (worker.joinable()) worker.join();  // the previous apply has finished
  l.unlock();
  Send(ApplyAccepted{m.id, m.op_id, OpState::kRunning});
  worker = std::thread([this, op] { RunApply(op); });
}

void Agent::State::RunApply(OpRecord op) {
  const std::string& id = op.op_id;
  auto finish = [&](bool reboot_now) {
    op.state = OpState::kFinished;
    op.finished_at = Now();
    Save(op);
    DoneEvent done = ToDone(op);
    auto mark_idle = [&] {
      {
        std::lock_guard<std::mutex> l(mu);
        unreported.push_back(id);
        running = false;
      }
      idle_cv.notify_all();
    };
    Log("apply " + id + " done" + (op.message.empty() ? "" : ": " + op.message));
    if (!reboot_now) {
      mark_idle();  // before `done`, so the host's next apply is not `busy`
      Send(done);
      return;
    }
    Send(done);
    std::this_thread::sleep_for(options.reboot_delay);
    Log("rebooting as payload " + (op.results.empty() ? "" : op.results.back().payload) + " asked");
    system->Reboot();
    mark_idle();  // only reached when Reboot() returns (tests)
  };
  ApplyContext ctx;
  ctx.options = &options;
  ctx.system = system.get();
  ctx.store = store.get();
  ctx.progress = [&](const std::string& payload_name, const std::string& phase_name,
                     const std::string& message) {
    Progress(id, payload_name, phase_name, message);
  };
  ctx.save = [&](const OpRecord& o) { Save(o); };
  ctx.report = [&](const PayloadResult& r) { Send(ResultEvent{r}); };
  ctx.applied = [&](const std::string& name,
                    const std::string& digest) -> std::optional<PayloadResult> {
    std::lock_guard<std::mutex> l(mu);
    if (!ledger->IsApplied(name, digest)) return std::nullopt;
    PayloadResult previous;
    for (const auto& rec : ledger->records()) {
      if (rec.payload == name && rec.digest == digest) previous = rec;
    }
    return previous;
  };
  ctx.installed = [&] {
    std::lock_guard<std::mutex> l(mu);
    return ledger->InstalledDigests();
  };
  RunApplyOperation(op, ctx);
  finish(op.reboot);
}

}  // namespace gitdisc::guest
