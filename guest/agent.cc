#include "guest/agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/file_util.h"
#include "base/symlink_path.h"
#include "guest/ledger.h"
#include "guest/line_reader.h"
#include "guest/payload_runner.h"
#include "guest/protocol.h"
#include "iso/bundle.h"
#include "iso/iso_reader.h"
#include "iso/manifest.h"

namespace gitdisc::guest {

namespace {

std::string Now() { return Rfc3339(std::chrono::system_clock::now()); }

void Log(const std::string& msg) { std::fprintf(stderr, "gitdisc-agent: %s\n", msg.c_str()); }

// The payload digest recomputed from its manifest entry (the canonical
// identity encoding shared with specs/ and iso/), so a disc cannot pair a
// known digest with different commands, environment or files.
std::string RecomputeDigest(const iso::ManifestPayload& p) {
  iso::BundlePayload b;
  b.name = p.name;
  b.version = p.version;
  b.run = p.run;
  b.env = p.env;
  b.reboot = p.reboot;
  for (const auto& f : p.files) {
    iso::BundleFile bf;
    bf.path = f.path;
    bf.mode = f.mode & 0777;
    bf.sha256 = f.sha256;
    if (f.is_symlink()) bf.symlink_target = "-";  // only its presence matters here
    b.files.push_back(std::move(bf));
  }
  return iso::ComputePayloadDigest(b);
}

// Requested payloads ordered so that each comes after the requested payloads
// it names in `after`; otherwise in request order. Fails on a cycle.
Result<std::vector<const iso::ManifestPayload*>> RunOrder(
    const iso::Manifest& manifest, const std::vector<std::string>& requested) {
  std::vector<const iso::ManifestPayload*> pending;
  for (const auto& name : requested) pending.push_back(manifest.FindPayload(name));
  std::set<std::string> wanted(requested.begin(), requested.end());
  std::set<std::string> done;
  std::vector<const iso::ManifestPayload*> order;
  while (!pending.empty()) {
    bool progressed = false;
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      bool ready = std::all_of((*it)->after.begin(), (*it)->after.end(),
                               [&](const auto& a) { return !wanted.count(a) || done.count(a); });
      if (ready) {
        done.insert((*it)->name);
        order.push_back(*it);
        pending.erase(it);
        progressed = true;
        break;
      }
    }
    if (!progressed) {
      return Status::Invalid("the payloads' `after` lists form a cycle (" + pending[0]->name + ")");
    }
  }
  return order;
}

}  // namespace

struct Agent::State {
  AgentOptions options;
  std::unique_ptr<AgentSystem> system;

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
                    {"ledger", "apply", "status", "reboot", "mount", "extract"}});
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
  std::unique_ptr<iso::IsoReader> reader;
  std::string device;
  auto refuse_all = [&](const std::string& why) {
    reader.reset();
    if (!device.empty()) {
      Status un = system->UnlockDrive(device);
      if (!un.ok()) Log("unlock " + device + ": " + un.ToString());
    }
    op.message = why.substr(0, kMaxTextBytes);
    op.results.clear();
    for (const auto& name : op.payloads) {
      PayloadResult r;
      r.op_id = id;
      r.payload = name;
      r.result = Outcome::kRefused;
      r.output_tail = op.message;
      op.results.push_back(std::move(r));
    }
    op.disc_released = true;  // nothing was mounted
    Progress(id, "", "refused", why);
    finish(false);
  };

  // 1. Find the disc whose manifest carries the expected bundle digest.
  Progress(id, "", "disc", "looking for the disc");
  std::vector<std::string> candidates =
      options.discs.empty() ? system->ListDiscDevices() : options.discs;
  iso::Manifest manifest;
  std::string last_problem = "no CD-ROM device";
  auto deadline = std::chrono::steady_clock::now() + options.disc_retry;
  // The first read after a media change fails once (unit attention) and a
  // retry right away usually succeeds: wait 10 ms first, doubling to 200 ms.
  auto retry_wait = std::chrono::milliseconds(10);
  for (;;) {
    for (const auto& dev : candidates) {
      auto r = iso::IsoReader::Open(dev);
      if (!r.ok()) {
        last_problem = dev + ": " + r.status().message();
        continue;
      }
      auto m = (*r)->ReadManifest();
      if (!m.ok()) {
        last_problem = dev + ": " + m.status().message();
        continue;
      }
      if (m->digest != op.manifest_digest) {
        last_problem =
            dev + " holds bundle " + m->digest + ", not the expected " + op.manifest_digest;
        continue;
      }
      reader = std::move(*r);
      manifest = std::move(*m);
      device = dev;
      break;
    }
    if (reader || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(retry_wait);
    retry_wait = std::min(retry_wait * 2, std::chrono::milliseconds(200));
    if (options.discs.empty()) candidates = system->ListDiscDevices();
  }
  if (!reader) return refuse_all("no disc with the expected bundle: " + last_problem);

  // 2. Every requested payload is on the disc, and its digest is honest.
  for (const auto& name : op.payloads) {
    const iso::ManifestPayload* p = manifest.FindPayload(name);
    if (!p) return refuse_all("payload " + name + " is not on the disc");
    if (RecomputeDigest(*p) != p->digest) {
      return refuse_all("payload " + name + ": the manifest entry does not match its digest");
    }
  }
  auto order = RunOrder(manifest, op.payloads);
  if (!order.ok()) return refuse_all(order.status().message());
  for (const auto& name : op.payloads) op.digests[name] = manifest.FindPayload(name)->digest;
  Save(op);  // before anything runs (see OpRecord::digests)

  // 3. Every file on the disc is what the manifest says, and nothing else.
  Progress(id, "", "verify", "verifying " + device);
  auto report = reader->Verify();
  if (!report.ok()) return refuse_all("verify: " + report.status().message());
  if (!report->ok()) {
    std::string what;
    for (const auto* list : {&report->mismatches, &report->missing, &report->extra}) {
      for (const auto& p : *list) {
        if (what.size() < 1000) what += " " + p.path + " (" + p.reason + ")";
      }
    }
    return refuse_all("the disc does not match its manifest:" + what);
  }
  // Symbolic links stay inside their payload folder. The host checks this
  // when it reads the payload from Git; a disc that was made elsewhere, or
  // by a host that was wrong, gets no such promise, so the agent checks again.
  for (const auto* p : *order) {
    std::vector<std::pair<std::string, std::string>> links;
    for (const iso::ManifestFile& f : p->files) {
      if (!f.is_symlink()) continue;
      const iso::IsoEntry* e =
          reader->Find(std::string(iso::kPayloadRoot) + "/" + p->name + "/" + f.path);
      if (!e) return refuse_all("payload " + p->name + ": " + f.path + " is not on the disc");
      links.emplace_back(f.path, e->symlink_target);
    }
    for (const auto& [link, target] : links) {
      auto inside = ResolveSymlinkInFolder(link, target, links);
      if (!inside.ok()) return refuse_all("payload " + p->name + ": " + inside.status().message());
    }
  }

  // 4. Mount read-only; extract with the reader when the kernel cannot.
  std::string run_dir = JoinPath(options.state_dir, "run");
  std::string mnt = JoinPath(run_dir, "disc");
  std::string extract_root = JoinPath(run_dir, "extract");
  (void)system->Unmount(mnt);  // a leftover from a crash, if any
  (void)RemoveAll(extract_root);
  bool mounted = false;
  std::string root;  // folder holding one folder per payload
  Status ms = system->Mount(device, mnt);
  if (ms.ok()) {
    mounted = true;
    root = JoinPath(mnt, iso::kPayloadRoot);
    Progress(id, "", "mount", "mounted " + device + " read-only at " + mnt);
  } else {
    Progress(id, "", "extract",
             "cannot mount " + device + " (" + ms.message() + "); extracting with the ISO reader");
    root = extract_root;
    Status made = MakeDirs(extract_root, 0700);
    for (const auto* p : *order) {
      if (!made.ok()) break;
      made = reader->ExtractPayload(manifest, p->name, JoinPath(extract_root, p->name));
    }
    if (!made.ok()) {
      (void)RemoveAll(extract_root);
      return refuse_all("extract: " + made.message());
    }
  }

  // 5. Run, in order, what is not applied yet; stop at the first failure.
  bool stop = false;
  bool reboot = false;
  std::string stop_reason;
  for (const auto* p : *order) {
    PayloadResult r;
    r.op_id = id;
    r.payload = p->name;
    r.version = p->version;
    r.digest = p->digest;
    if (stop) {
      r.result = Outcome::kSkipped;
      r.output_tail = stop_reason;
      op.results.push_back(r);
      continue;
    }
    bool applied;
    PayloadResult previous;
    {
      std::lock_guard<std::mutex> l(mu);
      applied = ledger->IsApplied(p->name, p->digest);
      for (const auto& rec : ledger->records()) {
        if (rec.payload == p->name && rec.digest == p->digest) previous = rec;
      }
    }
    if (applied) {
      Progress(id, p->name, "skip", "already applied (op " + previous.op_id + ")");
      op.results.push_back(previous);
      Save(op);
      Send(ResultEvent{previous});
      continue;
    }
    std::string payload_dir = JoinPath(root, p->name);
    std::string scratch = JoinPath(JoinPath(options.state_dir, "scratch"), p->name);
    std::string reboot_file = JoinPath(run_dir, "reboot-request");
    (void)RemoveAll(scratch);
    (void)MakeDirs(scratch, 0700);
    ::unlink(reboot_file.c_str());

    RunSpec spec;
    spec.argv = p->run;
    if (!spec.argv.empty() && spec.argv[0].rfind("./", 0) == 0) {
      spec.argv[0] = JoinPath(payload_dir, spec.argv[0].substr(2));
    }
    spec.cwd = payload_dir;
    std::map<std::string, std::string> env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    for (const auto& [k, v] : p->env) env[k] = v;
    env["GITDISC_PAYLOAD"] = p->name;
    env["GITDISC_VERSION"] = p->version;
    env["GITDISC_DIGEST"] = p->digest;
    env["GITDISC_REVISION"] = manifest.revision;
    env["GITDISC_OP_ID"] = id;
    env["GITDISC_SCRATCH"] = scratch;
    env["GITDISC_REBOOT_FILE"] = reboot_file;
    for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);
    spec.timeout = std::chrono::seconds(std::max<int64_t>(1, p->timeout_seconds));
    spec.kill_grace = options.kill_grace;
    spec.tail_bytes = options.tail_bytes;

    Progress(id, p->name, "run", "running " + (p->run.empty() ? "" : p->run[0]));
    r.started_at = Now();
    if (p->run.empty()) {
      r.result = Outcome::kOk;  // a payload that only carries files
      r.exit_code = 0;
    } else {
      auto outcome = RunPayloadProcess(spec);
      if (!outcome.ok()) {
        r.result = Outcome::kFailed;
        r.output_tail = outcome.status().message();
      } else {
        r.exit_code = outcome->exit_code;
        r.output_tail = outcome->output_tail;
        switch (outcome->kind) {
          case RunOutcome::Kind::kExited:
            r.result = outcome->exit_code == 0 ? Outcome::kOk : Outcome::kFailed;
            break;
          case RunOutcome::Kind::kSignaled:
          case RunOutcome::Kind::kStartFailed:
            r.result = Outcome::kFailed;
            break;
          case RunOutcome::Kind::kTimedOut:
            r.result = Outcome::kTimeout;
            r.output_tail += "\n[gitdisc-agent: killed after the timeout of " +
                             std::to_string(p->timeout_seconds) + "s]\n";
            break;
        }
      }
    }
    r.finished_at = Now();
    r.output_tail = BoundedUtf8Tail(r.output_tail, options.tail_bytes);
    (void)RemoveAll(scratch);
    if (r.result == Outcome::kOk) {
      bool requested = ::access(reboot_file.c_str(), F_OK) == 0;
      if (p->reboot == "always" || (p->reboot == "ifRequested" && requested)) {
        r.reboot = true;
        reboot = true;
        stop = true;
        stop_reason = "not run: the guest reboots after " + p->name;
      }
    } else {
      stop = true;
      stop_reason = "not run: " + p->name + " " + OutcomeName(r.result);
      op.message = p->name + " " + OutcomeName(r.result);
    }
    ::unlink(reboot_file.c_str());
    op.results.push_back(r);
    Save(op);  // durable before the host hears of it
    Send(ResultEvent{r});
  }

  // 6. Release the drive before reporting, so the host's eject is not refused.
  Progress(id, "", "release", "releasing " + device);
  reader.reset();
  bool released = true;
  if (mounted) {
    Status us = system->Unmount(mnt);
    if (!us.ok()) {
      released = false;
      Log("unmount " + mnt + ": " + us.ToString());
    }
  } else {
    (void)RemoveAll(extract_root);
  }
  Status un = system->UnlockDrive(device);
  if (!un.ok()) {
    released = false;
    Log("unlock " + device + ": " + un.ToString());
  }
  op.disc_released = released;
  op.reboot = reboot;
  finish(reboot);
}

}  // namespace gitdisc::guest
