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

  // Lines from the agent that were dropped as invalid (for logs/metrics).
  int ignored_lines() const { return ignored_lines_; }

 private:
  // Sends `request` (its id is set per attempt) until a reply with one of the
  // attempt ids arrives; queues events seen meanwhile.
  Result<AgentMessage> Call(HostMessage request);
  // Reads one decoded message; kTimeout when none within `timeout`.
  Result<AgentMessage> ReadMessage(std::chrono::milliseconds timeout);

  std::unique_ptr<ByteStream> stream_;
  Options options_;
  LineReader reader_;
  uint64_t next_id_ = 1;
  std::deque<AgentMessage> events_;
  int ignored_lines_ = 0;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_AGENT_CLIENT_H_
