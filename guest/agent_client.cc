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
  std::string msg =
      std::string("agent: ") + ErrorCodeName(e.code) + ": " + QuoteUntrusted(e.message, 300);
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
      reader_(stream_.get(), options_.limits.max_line_bytes) {}

AgentClient::~AgentClient() = default;

SteadyClock::time_point AgentClient::Cap(SteadyClock::time_point t) const {
  return std::min(t, deadline_);
}

gitdisc::Status AgentClient::Misbehaving() const {
  return gitdisc::Status::Corrupt("agent misbehaving: " + misbehaviour_->detail);
}

gitdisc::Status AgentClient::CutOff(std::string bound, std::string detail) {
  if (!misbehaviour_) misbehaviour_ = Misbehaviour{std::move(bound), std::move(detail)};
  stream_->Close();  // nothing more is read from this guest
  events_.clear();
  queued_bytes_ = 0;
  return Misbehaving();
}

Result<AgentMessage> AgentClient::ReadMessage(SteadyClock::time_point deadline, Budget& b,
                                              size_t* line_bytes) {
  const Options::Limits& lim = options_.limits;
  for (;;) {
    if (misbehaviour_) return Misbehaving();
    // Checked per line, not only per read: lines already buffered (a flood)
    // cannot keep a call going past its deadline either.
    if (b.lines > 0 && SteadyClock::now() >= deadline) {
      return gitdisc::Status::Timeout("no reply before the deadline");
    }
    Result<std::string> line = reader_.ReadLineUntil(deadline);
    if (!line.ok()) {
      if (line.status().code() == gitdisc::Status::Code::kInvalid) {
        return CutOff("LineTooLong",
                      "a line longer than " + std::to_string(lim.max_line_bytes) + " bytes");
      }
      if (line.status().code() == gitdisc::Status::Code::kUnavailable) {
        return gitdisc::Status::Unavailable("agent channel closed");
      }
      return line.status();
    }
    if (++b.lines > lim.max_lines_per_call) {
      return CutOff("TooManyLines",
                    "more than " + std::to_string(lim.max_lines_per_call) + " lines in one call");
    }
    b.bytes += line->size() + 1;
    if (b.bytes > lim.max_bytes_per_call) {
      return CutOff("TooManyBytes", "more than " + std::to_string(lim.max_bytes_per_call) +
                                        " bytes in one call");
    }
    Result<AgentMessage> m = line->empty() ? Result<AgentMessage>(gitdisc::Status::Invalid("blank"))
                                           : DecodeAgentMessage(*line);
    if (!m.ok()) {
      ++ignored_lines_;
      if (++b.ignored > lim.max_ignored_per_call) {
        return CutOff("JunkLines", "more than " + std::to_string(lim.max_ignored_per_call) +
                                       " blank or undecodable lines in one call (the last: \"" +
                                       QuoteUntrusted(*line, 60) + "\")");
      }
      continue;
    }
    if (!ReplyId(*m) && !std::holds_alternative<ErrorReply>(*m) &&
        ++b.events > lim.max_events_per_call) {
      return CutOff("TooManyEvents", "more than " + std::to_string(lim.max_events_per_call) +
                                         " events in one call");
    }
    *line_bytes = line->size() + 1;
    return m;
  }
}

gitdisc::Status AgentClient::Queue(AgentMessage event, size_t line_bytes) {
  const Options::Limits& lim = options_.limits;
  if (events_.size() >= lim.max_queued_events ||
      queued_bytes_ + line_bytes > lim.max_queued_event_bytes) {
    return CutOff("EventQueueFull", "more than " + std::to_string(lim.max_queued_events) +
                                        " events or " + std::to_string(lim.max_queued_event_bytes) +
                                        " bytes of events waiting");
  }
  queued_bytes_ += line_bytes;
  events_.emplace_back(std::move(event), line_bytes);
  return gitdisc::Status::Ok();
}

Result<AgentMessage> AgentClient::Call(HostMessage request) {
  if (misbehaviour_) return Misbehaving();
  std::vector<uint64_t> ids;
  Budget budget;
  gitdisc::Status last = gitdisc::Status::Timeout("agent did not answer");
  const int attempts = std::max(1, options_.max_attempts);
  const auto call_deadline = Cap(SteadyClock::now() + options_.request_timeout * attempts);
  for (int attempt = 0; attempt < attempts && SteadyClock::now() < call_deadline; ++attempt) {
    uint64_t id = next_id_++;
    ids.push_back(id);
    SetId(request, id);
    GITDISC_RETURN_IF_ERROR(stream_->Write(EncodeHostMessage(request)));
    auto deadline = std::min(SteadyClock::now() + options_.request_timeout, call_deadline);
    for (;;) {
      size_t bytes = 0;
      Result<AgentMessage> m = ReadMessage(deadline, budget, &bytes);
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
        GITDISC_RETURN_IF_ERROR(Queue(std::move(*m), bytes));
        continue;
      }
      if (std::find(ids.begin(), ids.end(), *rid) == ids.end()) continue;  // stale
      if (auto* e = std::get_if<ErrorReply>(&*m)) return FromError(*e);
      return m;
    }
  }
  if (reader_.pending_bytes() > 0) {
    return CutOff("LineNotEnded", "a line did not end within the call's deadline (" +
                                      std::to_string(reader_.pending_bytes()) + " bytes so far)");
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
  if (misbehaviour_) return Misbehaving();
  deadline = Cap(deadline);
  auto quiet_since = SteadyClock::now();
  Budget budget;  // events: the whole wait; lines and bytes: one status round
  for (;;) {
    while (!events_.empty()) {
      AgentMessage m = std::move(events_.front().first);
      queued_bytes_ -= events_.front().second;
      events_.pop_front();
      if (auto* d = std::get_if<DoneEvent>(&m); d && d->op_id == op_id) return std::move(*d);
      if (on_event) on_event(m);
    }
    auto now = SteadyClock::now();
    if (now >= deadline) {
      if (reader_.pending_bytes() > 0) {
        return CutOff("LineNotEnded", "a line did not end before operation " + op_id +
                                          "'s deadline (" +
                                          std::to_string(reader_.pending_bytes()) + " bytes)");
      }
      return gitdisc::Status::Timeout("operation " + op_id + " did not finish in time");
    }
    if (now - quiet_since >= options_.status_interval) {
      quiet_since = now;
      budget.lines = budget.ignored = 0;
      budget.bytes = 0;
      Result<StatusReply> st = Status(op_id);
      if (misbehaviour_) return Misbehaving();
      if (st.ok()) {
        for (const auto& op : st->ops) {
          if (op.op_id != op_id) continue;
          if (op.state == OpState::kUnknown) {
            return gitdisc::Status::NotFound("the agent does not know operation " + op_id);
          }
          if (op.state == OpState::kFinished) {
            // Events queued before the status reply come first.
            bool queued_done = std::any_of(events_.begin(), events_.end(), [&](const auto& e) {
              auto* d = std::get_if<DoneEvent>(&e.first);
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
    auto wait_until = std::min(deadline, quiet_since + options_.status_interval);
    size_t bytes = 0;
    Result<AgentMessage> m = ReadMessage(wait_until, budget, &bytes);
    if (!m.ok()) {
      if (m.status().code() == gitdisc::Status::Code::kTimeout) continue;
      return m.status();
    }
    if (ReplyId(*m)) continue;  // a late reply to an earlier call
    quiet_since = SteadyClock::now();
    GITDISC_RETURN_IF_ERROR(Queue(std::move(*m), bytes));
  }
}

std::string QuoteUntrusted(std::string_view s, size_t max) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  for (; i < s.size() && out.size() < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace gitdisc::guest
