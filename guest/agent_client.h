// AgentClient: the host side of the agent protocol (guest/protocol.h) over a
// ByteStream — on a real host the libvirt channel from
// Provider::OpenChannel, in tests a socketpair.
//
// Every call is a request/response exchange that survives lost messages:
// bytes sent while nobody reads on the guest side can be dropped (the agent
// may not be listening yet after a boot), so a request that gets no reply
// within request_timeout is sent again with a fresh id, up to max_attempts.
// Requests are safe to repeat: hello, ledger and status only read, and apply
// is idempotent by op id (the agent runs an op id at most once).
//
// Everything received is untrusted: lines that do not decode strictly are
// dropped (and counted in ignored_lines()), replies to other ids are ignored.
// Events (progress, result, done) that arrive while a call waits for its reply
// are queued for WaitForDone.
//
// Every byte from the guest is bounded (Options::limits, docs/security.md):
// each call ends by its deadline (request_timeout per attempt, every attempt
// within max_attempts x request_timeout, and never after SetDeadline's
// time), which no stream of data can extend; a call reads at most so many
// lines, bytes, ignored (blank or undecodable) lines and events; lines are
// at most max_line_bytes; queued events are bounded in count and bytes. A
// guest that breaks a bound is cut off: the stream is closed at once, the
// call fails with kCorrupt "agent misbehaving: ...", every later call fails
// the same way, and misbehaviour() says which bound (for the controller's
// AgentMisbehaving condition and backoff). Text from the guest that ends up
// in a message is cut short and escaped (QuoteUntrusted). A call that ends by
// its deadline while a line is still unfinished is cut off too (a line that
// never ends); one that ends with the channel quiet is a plain kTimeout (an
// agent that is not there yet).
//
// Typical use by the reconciler:
//   AgentClient c(std::move(channel));
//   GITDISC_ASSIGN_OR_RETURN(auto hello, c.Hello());
//   GITDISC_ASSIGN_OR_RETURN(auto ledger, c.Ledger());
//   ... insert the disc ...
//   GITDISC_ASSIGN_OR_RETURN(auto accepted, c.Apply(op_id, bundle_digest, names));
//   GITDISC_ASSIGN_OR_RETURN(auto done, c.WaitForDone(op_id, deadline, on_event));
//   if (done.disc_released) ... eject ...
// After a controller restart, Status(op_id) tells whether the op is running,
// finished (with its results) or unknown to the agent (never received: apply
// again with the same op id).
//
// Not thread-safe: one thread drives one client. Owns the stream.
#ifndef GITDISC_GUEST_AGENT_CLIENT_H_
#define GITDISC_GUEST_AGENT_CLIENT_H_

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/byte_stream.h"
#include "base/status.h"
#include "guest/line_reader.h"
#include "guest/protocol.h"

namespace gitdisc::guest {

class AgentClient {
 public:
  struct Options {
    std::chrono::milliseconds request_timeout{3'000};  // per attempt
    int max_attempts = 5;
    // WaitForDone asks `status {op_id}` when no event arrived for this long.
    std::chrono::milliseconds status_interval{5'000};
    std::string client_name = "gitdisc";
    // What one call may receive before the guest is cut off. A call is one
    // request/reply exchange (all its attempts); WaitForDone counts as one
    // call for events and as one per status round for lines and bytes.
    struct Limits {
      size_t max_line_bytes = kMaxLineBytes;
      int max_lines_per_call = 4096;   // every line: replies, events, junk
      int max_ignored_per_call = 64;   // blank or undecodable lines
      uint64_t max_bytes_per_call = 32u << 20;
      int max_events_per_call = 1024;  // progress/result/done received
      size_t max_queued_events = 1024;
      uint64_t max_queued_event_bytes = 32u << 20;
    };
    Limits limits;
  };

  // Which bound a guest broke (misbehaviour()). `bound` is a stable
  // CamelCase name: LineTooLong, LineNotEnded, TooManyLines, JunkLines,
  // TooManyBytes, TooManyEvents, EventQueueFull. `detail` is for people.
  struct Misbehaviour {
    std::string bound;
    std::string detail;
  };

  explicit AgentClient(std::unique_ptr<ByteStream> stream);
  AgentClient(std::unique_ptr<ByteStream> stream, Options options);
  ~AgentClient();

  // Protocol handshake. kInvalid when the agent speaks another version.
  Result<HelloReply> Hello();

  // Every run the agent recorded (no output tails), oldest first.
  Result<std::vector<PayloadResult>> Ledger();

  // Asks the agent to apply `payloads` from the disc whose bundle digest is
  // manifest_digest. Returns the acceptance: state running (follow with
  // WaitForDone) or finished (the op id was seen before; its `done` is queued
  // and WaitForDone returns it at once). kUnavailable with "busy" when another
  // operation runs; kInvalid when the agent rejected the request.
  Result<ApplyAccepted> Apply(const std::string& op_id, const std::string& manifest_digest,
                              const std::vector<std::string>& payloads);

  // Waits for op_id's `done`, calling on_event for its progress and result
  // events. When the channel is quiet it asks `status` and returns the
  // recorded results if the op finished meanwhile (its `done` was lost).
  // kTimeout at the deadline; kNotFound when the agent does not know op_id.
  using EventFn = std::function<void(const AgentMessage& event)>;
  Result<DoneEvent> WaitForDone(const std::string& op_id,
                                std::chrono::steady_clock::time_point deadline,
                                const EventFn& on_event = nullptr);

  // What runs and what finished (see StatusRequest).
  Result<StatusReply> Status(const std::optional<std::string>& op_id = std::nullopt);

  // Every later call ends by `deadline` (time_point::max() lifts it): the
  // controller's per-VM observation deadline.
  void SetDeadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }

  // Set once the guest broke a bound; the client is then closed for good.
  const std::optional<Misbehaviour>& misbehaviour() const { return misbehaviour_; }

  // Lines from the agent that were dropped as invalid (for logs/metrics).
  int ignored_lines() const { return ignored_lines_; }
  // The line reader's work: bytes searched for '\n' (tests assert it is
  // linear in the bytes received).
  uint64_t bytes_scanned() const { return reader_.bytes_scanned(); }
  uint64_t bytes_received() const { return reader_.bytes_received(); }

 private:
  // What one call has received so far (see Limits).
  struct Budget {
    int lines = 0;
    int ignored = 0;
    int events = 0;
    uint64_t bytes = 0;
  };
  // Sends `request` (its id is set per attempt) until a reply with one of the
  // attempt ids arrives; queues events seen meanwhile.
  Result<AgentMessage> Call(HostMessage request);
  // Reads one decoded message; kTimeout when none by `deadline`; kCorrupt
  // when the guest broke a bound (it is cut off).
  // `line_bytes` receives the size of the message's line.
  Result<AgentMessage> ReadMessage(std::chrono::steady_clock::time_point deadline, Budget& budget,
                                   size_t* line_bytes);
  // Queues an event for WaitForDone, within the queue's bounds.
  gitdisc::Status Queue(AgentMessage event, size_t line_bytes);
  // Cuts the guest off: records the bound, closes the stream.
  gitdisc::Status CutOff(std::string bound, std::string detail);
  gitdisc::Status Misbehaving() const;
  // The sooner of `t` and the SetDeadline deadline.
  std::chrono::steady_clock::time_point Cap(std::chrono::steady_clock::time_point t) const;

  std::unique_ptr<ByteStream> stream_;
  Options options_;
  LineReader reader_;
  uint64_t next_id_ = 1;
  std::deque<std::pair<AgentMessage, size_t>> events_;  // with its line's size
  uint64_t queued_bytes_ = 0;
  int ignored_lines_ = 0;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::optional<Misbehaviour> misbehaviour_;
};

// `s` for a message about untrusted input: at most `max` bytes, every byte
// outside printable ASCII as \xNN, and "... (N bytes)" when cut.
std::string QuoteUntrusted(std::string_view s, size_t max = 120);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_AGENT_CLIENT_H_
