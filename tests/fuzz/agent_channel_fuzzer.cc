// libFuzzer target: the host end of the agent channel (guest/line_reader.h,
// guest/agent_client.h) on adversarial streams. The input is what a guest
// sends; its first byte picks how it is cut into reads.
//
//   1. LineReader with a small bound: the lines it returns are exactly the
//      input's '\n'-separated lines that fit (over-long ones reported once
//      and skipped), each byte is searched once and moved at most once, and
//      it never holds much more than the bound.
//   2. AgentClient with small limits runs hello, ledger, status, apply and
//      a wait for its done against the same bytes: whatever happens, each
//      call returns (deadlines are a few ms and data cannot extend them), a
//      guest cut off stays cut off with kCorrupt, and no message quotes much
//      of what the guest sent.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "guest/agent_client.h"
#include "guest/line_reader.h"

namespace {

using namespace gitdisc;

// Serves `data` in reads of varying size; once it is used up, reads time
// out at once (no sleeping: the fuzzer stays fast) or end the stream.
class ChunkedStream final : public ByteStream {
 public:
  ChunkedStream(std::string_view data, uint8_t seed, bool end_at_eof)
      : data_(data), state_(seed | 1u), end_at_eof_(end_at_eof) {}
  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds) override {
    if (closed_) return Status::Io("closed");
    if (data_.empty()) {
      if (end_at_eof_) return size_t{0};
      return Status::Timeout("nothing");
    }
    state_ = state_ * 1103515245u + 12345u;
    size_t k = std::min({n, data_.size(), static_cast<size_t>(1 + (state_ >> 16) % 97)});
    std::copy(data_.begin(), data_.begin() + k, buf);
    data_.remove_prefix(k);
    return k;
  }
  Status Write(std::string_view) override {
    return closed_ ? Status::Io("closed") : Status::Ok();
  }
  void Close() override { closed_ = true; }

 private:
  std::string_view data_;
  uint32_t state_;
  bool end_at_eof_;
  bool closed_ = false;
};

void CheckLineReader(std::string_view data, uint8_t seed) {
  constexpr size_t kMax = 64;
  ChunkedStream s(data, seed, /*end_at_eof=*/true);
  guest::LineReader r(&s, kMax);
  std::vector<std::string> want;
  bool tail_too_long = false;
  for (size_t pos = 0;;) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      tail_too_long = data.size() - pos >= kMax;
      break;
    }
    if (nl - pos + 1 <= kMax) want.emplace_back(data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::vector<std::string> got;
  int too_long = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto line = r.ReadLineUntil(deadline);
    if (r.buffered_bytes() > 64 * 1024 + 4 * (kMax + 97)) std::abort();  // bounded memory
    if (line.ok()) {
      got.push_back(*line);
      continue;
    }
    if (line.status().code() == Status::Code::kInvalid) {
      ++too_long;
      continue;
    }
    if (line.status().code() != Status::Code::kUnavailable) std::abort();
    break;
  }
  if (got != want) std::abort();
  if (r.bytes_scanned() != r.bytes_received() || r.bytes_received() != data.size()) std::abort();
  if (r.bytes_moved() > data.size()) std::abort();
  (void)tail_too_long;
  (void)too_long;
}

void CheckMessage(const Status& st) {
  if (st.message().size() > 600) std::abort();  // nothing quoted unbounded
}

template <typename R>
void CheckCall(const guest::AgentClient& c, const R& r, bool* cut) {
  if (r.ok()) return;
  CheckMessage(r.status());
  if (*cut && r.status().code() != Status::Code::kCorrupt) std::abort();  // stays cut off
  if (c.misbehaviour()) {
    *cut = true;
    if (r.status().code() != Status::Code::kCorrupt) std::abort();
    if (c.misbehaviour()->detail.size() > 400) std::abort();
  }
}

void CheckClient(std::string_view data, uint8_t seed) {
  guest::AgentClient::Options o;
  o.request_timeout = std::chrono::milliseconds(2);
  o.max_attempts = 2;
  o.status_interval = std::chrono::milliseconds(1);
  o.limits.max_line_bytes = 4096;
  o.limits.max_lines_per_call = 64;
  o.limits.max_ignored_per_call = 8;
  o.limits.max_bytes_per_call = 64 * 1024;
  o.limits.max_events_per_call = 16;
  o.limits.max_queued_events = 8;
  o.limits.max_queued_event_bytes = 16 * 1024;
  guest::AgentClient c(std::make_unique<ChunkedStream>(data, seed, /*end_at_eof=*/false), o);
  bool cut = false;
  auto start = std::chrono::steady_clock::now();
  CheckCall(c, c.Hello(), &cut);
  CheckCall(c, c.Ledger(), &cut);
  CheckCall(c, c.Status(), &cut);
  CheckCall(c, c.Apply("op-1", std::string(64, 'a'), {"p"}), &cut);
  CheckCall(c, c.WaitForDone("op-1", std::chrono::steady_clock::now() +
                                         std::chrono::milliseconds(20)),
            &cut);
  // Five calls of a few ms each, whatever the bytes: data never extends a deadline.
  if (std::chrono::steady_clock::now() - start > std::chrono::seconds(5)) std::abort();
  if (c.bytes_received() > data.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  CheckLineReader(stream, data[0]);
  CheckClient(stream, data[0]);
  return 0;
}
