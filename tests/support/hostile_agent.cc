#include "tests/support/hostile_agent.h"

#include <csignal>

#include <array>
#include <chrono>
#include <utility>

#include "guest/line_reader.h"
#include "guest/protocol.h"

namespace gitdisc::testing {
namespace {

constexpr std::array<std::pair<Hostility, const char*>, 7> kNames = {{
    {Hostility::kNewlineFlood, "newline-flood"},
    {Hostility::kJunkJsonFlood, "junk-json-flood"},
    {Hostility::kEndlessLine, "endless-line"},
    {Hostility::kDripLine, "drip-line"},
    {Hostility::kStaleReplyFlood, "stale-reply-flood"},
    {Hostility::kMute, "mute"},
    {Hostility::kEventFloodOnApply, "event-flood-on-apply"},
}};

// `unit` repeated to about 64 KiB, so a flood is a few large writes.
std::string Repeat(std::string_view unit) {
  std::string out;
  while (out.size() < 65536) out += unit;
  return out;
}

}  // namespace

const char* HostilityName(Hostility h) {
  for (const auto& [k, name] : kNames) {
    if (k == h) return name;
  }
  return "?";
}

std::optional<Hostility> ParseHostility(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (name == n) return k;
  }
  return std::nullopt;
}

HostileAgent::HostileAgent(Hostility mode, std::unique_ptr<ByteStream> stream)
    : mode_(mode), stream_(std::move(stream)) {
  std::signal(SIGPIPE, SIG_IGN);  // a flood into a closed socket must fail, not kill
  thread_ = std::thread([this] { Run(); });
}

HostileAgent::~HostileAgent() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void HostileAgent::Stop() {
  stop_ = true;
  stream_->Close();
}

void HostileAgent::Flood(std::string_view unit) {
  const std::string chunk = Repeat(unit);
  while (!stop_ && stream_->Write(chunk).ok()) sent_ += chunk.size();
}

void HostileAgent::ServeUntilApply() {
  using namespace guest;
  LineReader reader(stream_.get(), kMaxLineBytes);
  while (!stop_) {
    Result<std::string> line = reader.ReadLine(std::chrono::milliseconds(100));
    if (!line.ok()) {
      if (line.status().code() == Status::Code::kTimeout) continue;
      return;  // closed
    }
    Result<HostMessage> m = DecodeHostMessage(*line);
    if (!m.ok()) continue;
    std::string reply;
    std::string flood_op;
    if (auto* h = std::get_if<HelloRequest>(&*m)) {
      reply = EncodeAgentMessage(HelloReply{h->id, kProtocolVersion, "hostile", {"apply"}});
    } else if (auto* l = std::get_if<LedgerRequest>(&*m)) {
      reply = EncodeAgentMessage(LedgerReply{l->id, {}});
    } else if (auto* s = std::get_if<StatusRequest>(&*m)) {
      StatusReply r{s->id, {}};
      if (s->op_id) {
        OpStatus op;
        op.op_id = *s->op_id;
        op.state = OpState::kRunning;
        r.ops.push_back(std::move(op));
      }
      reply = EncodeAgentMessage(r);
    } else if (auto* a = std::get_if<ApplyRequest>(&*m)) {
      reply = EncodeAgentMessage(ApplyAccepted{a->id, a->op_id, OpState::kRunning});
      flood_op = a->op_id;
      ++applies_;
    }
    if (!stream_->Write(reply).ok()) return;
    sent_ += reply.size();
    if (!flood_op.empty()) {
      Flood(EncodeAgentMessage(ProgressEvent{flood_op, "", "run", "flood"}));
      return;
    }
  }
}

void HostileAgent::Run() {
  switch (mode_) {
    case Hostility::kNewlineFlood:
      Flood("\n");
      break;
    case Hostility::kJunkJsonFlood:
      Flood("{\"junk\":[1,2,3],\"type\":\"nonsense\"}\n");
      break;
    case Hostility::kEndlessLine:
      Flood("x");
      break;
    case Hostility::kStaleReplyFlood:
      Flood(guest::EncodeAgentMessage(
          guest::HelloReply{999'999'999, guest::kProtocolVersion, "stale", {}}));
      break;
    case Hostility::kDripLine:
      while (!stop_ && stream_->Write("x").ok()) {
        ++sent_;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      break;
    case Hostility::kMute: {
      char buf[4096];
      while (!stop_) {
        auto got = stream_->Read(buf, sizeof buf, std::chrono::milliseconds(100));
        if (!got.ok() && got.status().code() != Status::Code::kTimeout) break;
        if (got.ok() && *got == 0) break;
      }
      break;
    }
    case Hostility::kEventFloodOnApply:
      ServeUntilApply();
      break;
  }
  finished_ = true;
}

}  // namespace gitdisc::testing
