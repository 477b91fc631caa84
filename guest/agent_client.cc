#include "guest/agent_client.h"

#include <algorithm>

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::optional<uint64_t> ReplyId(const AgentMessage& m) {
  return std::visit(
      [](const auto& v) -> std::optional<uint64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ErrorReply>) {
          return v.id;
        } else if constexpr (std::is_same_v<T, HelloReply> || std::is_same_v<T, LedgerReply> ||
                             std::is_same_v<T, ApplyAccepted> || std::is_same_v<T, StatusReply>) {
          return v.id;
        } else {
          return std::nullopt;  // an event
        }
      },
      m);
}

void SetId(HostMessage& m, uint64_t id) {
  std::visit([id](auto& v) { v.id = id; }, m);
}

gitdisc::Status FromError(const ErrorReply& e) {
  std::string msg = std::string("agent: ") + ErrorCodeName(e.code) + ": " + e.message;
  switch (e.code) {
    case ErrorCode::kBusy:
      return gitdisc::Status::Unavailable(msg);
    case ErrorCode::kInternal:
      return gitdisc::Status::Internal(msg);
    default:
      return gitdisc::Status::Invalid(msg);
  }
}

}  // namespace

AgentClient::AgentClient(std::unique_ptr<ByteStream> stream)
    : AgentClient(std::move(stream), Options()) {}

AgentClient::AgentClient(std::unique_ptr<ByteStream> stream, Options options)
    : stream_(std::move(stream)),
      options_(std::move(options)),
      reader_(stream_.get(), kMaxLineBytes) {}

AgentClient::~AgentClient() = default;

Result<AgentMessage> AgentClient::ReadMessage(milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (left.count() < 0) left = milliseconds(0);
    Result<std::string> line = reader_.ReadLine(left);
    if (!line.ok()) {
      if (line.status().code() == gitdisc::Status::Code::kInvalid) {  // over-long, skipped
        ++ignored_lines_;
        continue;
      }
      if (line.status().code() == gitdisc::Status::Code::kUnavailable) {
        return gitdisc::Status::Unavailable("agent channel closed");
      }
      return line.status();
    }
    if (line->empty()) continue;
    Result<AgentMessage> m = DecodeAgentMessage(*line);
    if (!m.ok()) {
      ++ignored_lines_;
      continue;
    }
    return m;
  }
}

Result<AgentMessage> AgentClient::Call(HostMessage request) {
  std::vector<uint64_t> ids;
  gitdisc::Status last = gitdisc::Status::Timeout("agent did not answer");
  for (int attempt = 0; attempt < std::max(1, options_.max_attempts); ++attempt) {
    uint64_t id = next_id_++;
    ids.push_back(id);
    SetId(request, id);
    GITDISC_RETURN_IF_ERROR(stream_->Write(EncodeHostMessage(request)));
    auto deadline = SteadyClock::now() + options_.request_timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) break;
      Result<AgentMessage> m = ReadMessage(left);
      if (!m.ok()) {
        if (m.status().code() == gitdisc::Status::Code::kTimeout) break;
        return m.status();
      }
      std::optional<uint64_t> rid = ReplyId(*m);
      if (!rid) {
        if (std::holds_alternative<ErrorReply>(*m)) {
          // An error without id: our request arrived garbled. Ask again now.
          last = FromError(std::get<ErrorReply>(*m));
          break;
        }
        events_.push_back(std::move(*m));
        continue;
      }
      if (std::find(ids.begin(), ids.end(), *rid) == ids.end()) continue;  // stale
      if (auto* e = std::get_if<ErrorReply>(&*m)) return FromError(*e);
      return m;
    }
  }
  return gitdisc::Status::Timeout(last.message() + " after " + std::to_string(ids.size()) +
                                  " attempts");
}

Result<HelloReply> AgentClient::Hello() {
  GITDISC_ASSIGN_OR_RETURN(AgentMessage m,
                           Call(HelloRequest{0, kProtocolVersion, options_.client_name}));
  auto* r = std::get_if<HelloReply>(&m);
  if (!r) return gitdisc::Status::Invalid("agent answered hello with another message type");
  if (r->protocol != kProtocolVersion) {
    return gitdisc::Status::Invalid("agent speaks protocol " + std::to_string(r->protocol));
  }
  return *r;
}

Result<std::vector<PayloadResult>> AgentClient::Ledger() {
  GITDISC_ASSIGN_OR_RETURN(AgentMessage m, Call(LedgerRequest{0}));
  auto* r = std::get_if<LedgerReply>(&m);
  if (!r) return gitdisc::Status::Invalid("agent answered ledger with another message type");
  return std::move(r->records);
}

Result<ApplyAccepted> AgentClient::Apply(const std::string& op_id,
                                         const std::string& manifest_digest,
                                         const std::vector<std::string>& payloads) {
  GITDISC_ASSIGN_OR_RETURN(AgentMessage m, Call(ApplyRequest{0, op_id, manifest_digest, payloads}));
  auto* r = std::get_if<ApplyAccepted>(&m);
  if (!r || r->op_id != op_id) return gitdisc::Status::Invalid("agent answered apply unexpectedly");
  return *r;
}

Result<StatusReply> AgentClient::Status(const std::optional<std::string>& op_id) {
  GITDISC_ASSIGN_OR_RETURN(AgentMessage m, Call(StatusRequest{0, op_id}));
  auto* r = std::get_if<StatusReply>(&m);
  if (!r) return gitdisc::Status::Invalid("agent answered status with another message type");
  return std::move(*r);
}

Result<DoneEvent> AgentClient::WaitForDone(const std::string& op_id,
                                           SteadyClock::time_point deadline,
                                           const EventFn& on_event) {
  auto quiet_since = SteadyClock::now();
  for (;;) {
    while (!events_.empty()) {
      AgentMessage m = std::move(events_.front());
      events_.pop_front();
      if (auto* d = std::get_if<DoneEvent>(&m); d && d->op_id == op_id) return std::move(*d);
      if (on_event) on_event(m);
    }
    auto now = SteadyClock::now();
    if (now >= deadline)
      return gitdisc::Status::Timeout("operation " + op_id + " did not finish in time");
    if (now - quiet_since >= options_.status_interval) {
      quiet_since = now;
      Result<StatusReply> st = Status(op_id);
      if (st.ok()) {
        for (const auto& op : st->ops) {
          if (op.op_id != op_id) continue;
          if (op.state == OpState::kUnknown) {
            return gitdisc::Status::NotFound("the agent does not know operation " + op_id);
          }
          if (op.state == OpState::kFinished) {
            // Events queued before the status reply come first.
            bool queued_done = std::any_of(events_.begin(), events_.end(), [&](const auto& e) {
              auto* d = std::get_if<DoneEvent>(&e);
              return d && d->op_id == op_id;
            });
            if (!queued_done) {
              return DoneEvent{op.op_id, op.results, op.disc_released, op.reboot, op.message};
            }
          }
        }
      } else if (!st.status().transient()) {
        return st.status();
      }
      continue;
    }
    auto wait = std::min(
        std::chrono::duration_cast<milliseconds>(deadline - now),
        std::chrono::duration_cast<milliseconds>(options_.status_interval - (now - quiet_since)));
    Result<AgentMessage> m = ReadMessage(std::max(wait, milliseconds(1)));
    if (!m.ok()) {
      if (m.status().code() == gitdisc::Status::Code::kTimeout) continue;
      return m.status();
    }
    if (ReplyId(*m)) continue;  // a late reply to an earlier call
    quiet_since = SteadyClock::now();
    events_.push_back(std::move(*m));
  }
}

}  // namespace gitdisc::guest
