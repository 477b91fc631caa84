#include "guest/apply_operation.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/file_util.h"
#include "guest/disc_finder.h"
#include "guest/payload_runner.h"
#include "guest/protocol.h"
#include "iso/bundle.h"

namespace gitdisc::guest {
namespace {

std::string Now() { return Rfc3339(std::chrono::system_clock::now()); }

void Log(const std::string& msg) { std::fprintf(stderr, "gitdisc-agent: %s\n", msg.c_str()); }

// Requested payloads ordered so that each comes after the requested payloads
// it names in `after`; otherwise in request order. Fails on a cycle.
Result<std::vector<iso::ManifestPayload>> RunOrder(const iso::Manifest& manifest,
                                                   const std::vector<std::string>& requested) {
  std::vector<const iso::ManifestPayload*> pending;
  for (const auto& name : requested) pending.push_back(manifest.FindPayload(name));
  std::set<std::string> wanted(requested.begin(), requested.end());
  std::set<std::string> done;
  std::vector<iso::ManifestPayload> order;
  while (!pending.empty()) {
    auto ready = std::find_if(pending.begin(), pending.end(), [&](const auto* p) {
      return std::all_of(p->after.begin(), p->after.end(),
                         [&](const auto& a) { return !wanted.count(a) || done.count(a); });
    });
    if (ready == pending.end()) {
      return Status::Invalid("the payloads' `after` lists form a cycle (" + pending[0]->name + ")");
    }
    done.insert((*ready)->name);
    order.push_back(**ready);
    pending.erase(ready);
  }
  return order;
}

std::string DescribeProblems(const iso::VerifyReport& report) {
  std::string what;
  for (const auto* list : {&report.mismatches, &report.missing, &report.extra}) {
    for (const auto& p : *list) {
      if (what.size() < 1000) what += " " + p.path + " (" + p.reason + ")";
    }
  }
  return what;
}

// A disc whose payloads are copied off and verified: nothing is read from the
// disc after this.
struct Prepared {
  std::string device;
  std::string revision;
  std::vector<iso::ManifestPayload> order;
  std::map<std::string, std::string> dirs;  // payloads to run → their verified copy
};

class Operation {
 public:
  Operation(OpRecord& op, const ApplyContext& ctx) : op_(op), ctx_(ctx) {}

  void Run() {
    std::optional<Prepared> prepared = FindAndPrepare();
    ReleaseDrives();
    if (!prepared) return Refuse(problems_);
    for (const auto& p : prepared->order) op_.digests[p.name] = p.digest;
    ctx_.save(op_);  // digests before anything runs (OpRecord::digests); disc_released
    ctx_.progress("", "release",
                  std::string(op_.disc_released ? "released " : "could not release ") +
                      prepared->device + "; the payloads run from their verified copies");
    RunAll(*prepared);
  }

 private:
  // Tries every device holding the named bundle until one passes every
  // check; a device that fails is not looked at again.
  std::optional<Prepared> FindAndPrepare() {
    ctx_.progress("", "disc", "looking for volume " + iso::VolumeIdForDigest(op_.manifest_digest));
    auto list = [&] {
      std::vector<std::string> devices =
          ctx_.options->discs.empty() ? ctx_.system->ListDiscDevices() : ctx_.options->discs;
      std::erase_if(devices, [&](const std::string& d) { return tried_.count(d) > 0; });
      return devices;
    };
    std::chrono::milliseconds retry = ctx_.options->disc_retry;
    for (;;) {
      DiscSearch search = FindDiscs(list, op_.manifest_digest, retry);
      retry = std::chrono::milliseconds(0);  // later rounds: only what became readable
      if (search.found.empty()) {
        if (tried_.empty()) problems_ = "no disc with the expected bundle: " + search.problems;
        return std::nullopt;
      }
      for (FoundDisc& disc : search.found) {
        tried_.insert(disc.device);
        auto prepared = Prepare(disc);
        if (prepared.ok()) return std::move(*prepared);
        problems_ += (problems_.empty() ? "" : "; ") +
                     (search.found.size() > 1 || tried_.size() > 1 ? disc.device + ": " : "") +
                     prepared.status().message();
      }
    }
  }

  Result<Prepared> Prepare(FoundDisc& disc) {
    const iso::Manifest& manifest = disc.manifest;
    ctx_.progress("", "verify", "checking " + disc.device + " against its manifest");
    for (const auto& name : op_.payloads) {
      const iso::ManifestPayload* p = manifest.FindPayload(name);
      if (!p) return Status::Corrupt("payload " + name + " is not on the disc");
      if (iso::RecomputePayloadDigest(*p) != p->digest) {
        return Status::Corrupt("payload " + name +
                               ": the manifest entry does not match its digest");
      }
    }
    Prepared out;
    out.device = disc.device;
    out.revision = manifest.revision;
    GITDISC_ASSIGN_OR_RETURN(out.order, RunOrder(manifest, op_.payloads));
    auto layout = disc.reader->VerifyLayout();
    if (!layout.ok()) return layout.status().Annotate("verify");
    if (!layout->ok()) {
      return Status::Corrupt("the disc does not match its manifest:" + DescribeProblems(*layout));
    }
    std::map<std::string, std::string> installed = ctx_.installed();
    for (const auto& p : out.order) {
      Status st = Status::Ok();
      if (ctx_.applied(p.name, p.digest)) {
        // Applied before this agent kept copies: keep one now.
        if (installed[p.name] != p.digest || ctx_.store->Has(p.name, p.digest)) continue;
        auto dir = ctx_.store->Stage(*disc.reader, manifest, p);
        st = dir.ok() ? ctx_.store->Commit(p.name, p.digest) : dir.status();
      } else {
        ctx_.progress(p.name, "copy", "copying " + p.name + " off " + disc.device);
        auto dir = ctx_.store->Stage(*disc.reader, manifest, p);
        if (dir.ok()) out.dirs[p.name] = *dir;
        st = dir.status();
      }
      if (!st.ok()) {
        for (const auto& [name, dir] : out.dirs) {
          (void)ctx_.store->Discard(name, manifest.FindPayload(name)->digest);
        }
        return st;
      }
    }
    return out;
  }

  // Closes nothing itself (the readers are gone with the search): unlocks
  // every drive this op opened, so the host may eject now.
  void ReleaseDrives() {
    op_.disc_released = true;
    for (const auto& device : tried_) {
      Status un = ctx_.system->UnlockDrive(device);
      if (!un.ok()) {
        op_.disc_released = false;
        Log("unlock " + device + ": " + un.ToString());
      }
    }
  }

  void Refuse(const std::string& why) {
    op_.message = why.substr(0, kMaxTextBytes);
    op_.results.clear();
    for (const auto& name : op_.payloads) {
      PayloadResult r;
      r.op_id = op_.op_id;
      r.payload = name;
      r.result = Outcome::kRefused;
      r.output_tail = op_.message;
      op_.results.push_back(std::move(r));
    }
    ctx_.progress("", "refused", why);
  }

  void RunAll(const Prepared& prepared) {
    std::string stop_reason;
    for (const auto& p : prepared.order) {
      auto dir = prepared.dirs.find(p.name);
      PayloadResult r;
      if (!stop_reason.empty()) {
        r = Unrun(p, Outcome::kSkipped, stop_reason);
      } else if (dir == prepared.dirs.end()) {
        std::optional<PayloadResult> previous = ctx_.applied(p.name, p.digest);
        ctx_.progress(p.name, "skip",
                      "already applied (op " + (previous ? previous->op_id : "?") + ")");
        r = previous.value_or(Unrun(p, Outcome::kOk, ""));
      } else {
        r = RunOne(p, dir->second, prepared.revision);
        if (r.result != Outcome::kOk) {
          stop_reason = "not run: " + p.name + " " + OutcomeName(r.result);
          op_.message = p.name + " " + OutcomeName(r.result);
        } else if (r.reboot) {
          op_.reboot = true;
          stop_reason = "not run: the guest reboots after " + p.name;
        }
      }
      if (dir != prepared.dirs.end()) {
        // The copy of what succeeded is kept; anything else never replaces
        // the kept copy of the last good one.
        Status kept = r.result == Outcome::kOk ? ctx_.store->Commit(p.name, p.digest)
                                               : ctx_.store->Discard(p.name, p.digest);
        if (!kept.ok()) Log("keeping the copy of " + p.name + ": " + kept.ToString());
      }
      op_.results.push_back(r);
      ctx_.save(op_);  // durable before the host hears of it
      ctx_.report(r);
    }
  }

  PayloadResult Unrun(const iso::ManifestPayload& p, Outcome outcome, const std::string& why) {
    PayloadResult r;
    r.op_id = op_.op_id;
    r.payload = p.name;
    r.version = p.version;
    r.digest = p.digest;
    r.result = outcome;
    r.output_tail = why;
    return r;
  }

  PayloadResult RunOne(const iso::ManifestPayload& p, const std::string& dir,
                       const std::string& revision) {
    const AgentOptions& options = *ctx_.options;
    std::string scratch = JoinPath(JoinPath(options.state_dir, "scratch"), p.name);
    std::string run_dir = JoinPath(options.state_dir, "run");
    std::string reboot_file = JoinPath(run_dir, "reboot-request");
    (void)RemoveAll(scratch);
    (void)MakeDirs(scratch, 0700);
    (void)MakeDirs(run_dir, 0700);
    ::unlink(reboot_file.c_str());

    RunSpec spec;
    spec.argv = p.run;
    if (!spec.argv.empty() && spec.argv[0].rfind("./", 0) == 0) {
      spec.argv[0] = JoinPath(dir, spec.argv[0].substr(2));
    }
    spec.cwd = dir;
    std::map<std::string, std::string> env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
    for (const auto& [k, v] : p.env) env[k] = v;
    env["GITDISC_PAYLOAD"] = p.name;
    env["GITDISC_VERSION"] = p.version;
    env["GITDISC_DIGEST"] = p.digest;
    env["GITDISC_REVISION"] = revision;
    env["GITDISC_OP_ID"] = op_.op_id;
    env["GITDISC_SCRATCH"] = scratch;
    env["GITDISC_REBOOT_FILE"] = reboot_file;
    for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);
    spec.timeout = std::chrono::seconds(std::max<int64_t>(1, p.timeout_seconds));
    spec.kill_grace = options.kill_grace;
    spec.tail_bytes = options.tail_bytes;

    ctx_.progress(p.name, "run", "running " + (p.run.empty() ? "" : p.run[0]) + " in " + dir);
    PayloadResult r = Unrun(p, Outcome::kOk, "");
    r.exit_code = 0;
    r.started_at = Now();
    if (!p.run.empty()) Execute(spec, p.timeout_seconds, &r);  // else: a payload of files only
    r.finished_at = Now();
    r.output_tail = BoundedUtf8Tail(r.output_tail, options.tail_bytes);
    (void)RemoveAll(scratch);
    bool requested = ::access(reboot_file.c_str(), F_OK) == 0;
    ::unlink(reboot_file.c_str());
    if (r.result == Outcome::kOk &&
        (p.reboot == "always" || (p.reboot == "ifRequested" && requested))) {
      r.reboot = true;
    }
    return r;
  }

  static void Execute(const RunSpec& spec, int64_t timeout_seconds, PayloadResult* r) {
    auto outcome = RunPayloadProcess(spec);
    if (!outcome.ok()) {
      r->result = Outcome::kFailed;
      r->exit_code = -1;
      r->output_tail = outcome.status().message();
      return;
    }
    r->exit_code = outcome->exit_code;
    r->output_tail = outcome->output_tail;
    switch (outcome->kind) {
      case RunOutcome::Kind::kExited:
        r->result = outcome->exit_code == 0 ? Outcome::kOk : Outcome::kFailed;
        break;
      case RunOutcome::Kind::kSignaled:
      case RunOutcome::Kind::kStartFailed:
        r->result = Outcome::kFailed;
        break;
      case RunOutcome::Kind::kTimedOut:
        r->result = Outcome::kTimeout;
        r->output_tail += "\n[gitdisc-agent: killed after the timeout of " +
                          std::to_string(timeout_seconds) + "s]\n";
        break;
    }
  }

  OpRecord& op_;
  const ApplyContext& ctx_;
  std::set<std::string> tried_;
  std::string problems_;
};

}  // namespace

void RunApplyOperation(OpRecord& op, const ApplyContext& ctx) { Operation(op, ctx).Run(); }

}  // namespace gitdisc::guest
