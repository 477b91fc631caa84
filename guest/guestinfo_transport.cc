#include "guest/guestinfo_transport.h"

#include <cstdio>
#include <optional>
#include <thread>

#include "guest/mailbox_frame.h"
#include "guest/payload_runner.h"

namespace gitdisc::guest {
namespace {

void Log(const std::string& msg) { std::fprintf(stderr, "gitdisc-agent: %s\n", msg.c_str()); }

// One short line of a tool's output for an error message.
std::string Brief(const std::string& text) {
  std::string s = text.substr(0, text.find('\n'));
  if (s.size() > 200) s = s.substr(0, 200) + "…";
  return s;
}

class RpctoolStore final : public GuestinfoStore {
 public:
  explicit RpctoolStore(std::string path) : path_(std::move(path)) {}

  Result<std::string> Get(const std::string& key) override {
    GITDISC_ASSIGN_OR_RETURN(RunOutcome out, Run("info-get " + key));
    if (out.kind == RunOutcome::Kind::kExited && out.exit_code == 0) {
      std::string v = std::move(out.output_tail);
      if (!v.empty() && v.back() == '\n') v.pop_back();
      return v;
    }
    // open-vm-tools answers an unset variable with "No value found".
    if (out.kind == RunOutcome::Kind::kExited &&
        out.output_tail.find("No value found") != std::string::npos) {
      return std::string();
    }
    return Failure("info-get " + key, out);
  }

  Status Set(const std::string& key, const std::string& value) override {
    GITDISC_ASSIGN_OR_RETURN(RunOutcome out, Run("info-set " + key + " " + value));
    if (out.kind == RunOutcome::Kind::kExited && out.exit_code == 0) return Status::Ok();
    return Failure("info-set " + key, out);
  }

 private:
  Result<RunOutcome> Run(const std::string& command) {
    RunSpec spec;
    spec.argv = {path_, command};
    spec.cwd = "/";
    spec.env = {"PATH=/usr/bin:/bin:/usr/sbin:/sbin"};
    spec.timeout = std::chrono::seconds(10);
    spec.kill_grace = std::chrono::seconds(1);
    spec.tail_bytes = 2 * kMailboxMaxValueBytes;
    GITDISC_ASSIGN_OR_RETURN(RunOutcome out, RunPayloadProcess(spec));
    if (out.output_bytes > spec.tail_bytes) {
      return Status::Invalid(path_ + ": answer longer than " + std::to_string(spec.tail_bytes) +
                             " bytes");
    }
    return out;
  }

  Status Failure(const std::string& what, const RunOutcome& out) const {
    std::string how;
    switch (out.kind) {
      case RunOutcome::Kind::kStartFailed:
        how = "cannot run it";
        break;
      case RunOutcome::Kind::kTimedOut:
        how = "no answer in 10 s";
        break;
      case RunOutcome::Kind::kSignaled:
      case RunOutcome::Kind::kExited:
        how = "exit " + std::to_string(out.exit_code);
        break;
    }
    return Status::Unavailable(path_ + " \"" + what + "\": " + how + ": " +
                               Brief(out.output_tail));
  }

  std::string path_;
};

class GuestSlots final : public MailboxSlots {
 public:
  explicit GuestSlots(std::shared_ptr<GuestinfoStore> store) : store_(std::move(store)) {}
  Result<std::string> ReadPeer() override { return store_->Get(kMailboxRequestKey); }
  Status WriteOwn(const std::string& value) override {
    return store_->Set(kMailboxReplyKey, value);
  }

 private:
  std::shared_ptr<GuestinfoStore> store_;
};

class GuestinfoTransport final : public AgentTransport {
 public:
  GuestinfoTransport(std::shared_ptr<GuestinfoStore> store, GuestinfoOptions options)
      : store_(std::move(store)), options_(options) {}

  Status Run(Agent& agent) override {
    Log("listening on the guestinfo mailbox (" + std::string(kMailboxRequestKey) + ")");
    int connections = 0;
    std::string served;  // the session served last
    std::optional<MailboxFrame> next;
    bool said_error = false;
    for (;;) {
      if (options_.stop && options_.stop->load()) return Status::Ok();
      if (!next) {
        auto value = store_->Get(kMailboxRequestKey);
        if (!value.ok()) {
          if (!said_error) Log("cannot read the mailbox: " + value.status().message());
          said_error = true;
          std::this_thread::sleep_for(options_.retry_sleep);
          continue;
        }
        said_error = false;
        auto frame = DecodeMailboxFrame(*value);
        if (frame.ok()) next = std::move(frame).value();
      }
      if (!next || next->fin || next->session == served) {
        next.reset();
        std::this_thread::sleep_for(options_.idle_poll);
        continue;
      }
      auto stream = MailboxStream::JoinGuest(MakeGuestMailboxSlots(store_), *next,
                                             options_.mailbox);
      served = next->session;
      next.reset();
      Status s = agent.Serve(stream.get());
      next = stream->superseded_by();
      if (!s.ok()) Log("session " + served + " ended: " + s.ToString());
      if (options_.max_connections > 0 && ++connections >= options_.max_connections) return s;
    }
  }

 private:
  std::shared_ptr<GuestinfoStore> store_;
  GuestinfoOptions options_;
};

}  // namespace

std::unique_ptr<GuestinfoStore> MakeRpctoolStore(std::string path) {
  return std::make_unique<RpctoolStore>(std::move(path));
}

std::unique_ptr<MailboxSlots> MakeGuestMailboxSlots(std::shared_ptr<GuestinfoStore> store) {
  return std::make_unique<GuestSlots>(std::move(store));
}

std::unique_ptr<AgentTransport> MakeGuestinfoTransport(std::shared_ptr<GuestinfoStore> store,
                                                       GuestinfoOptions options) {
  return std::make_unique<GuestinfoTransport>(std::move(store), options);
}

}  // namespace gitdisc::guest
