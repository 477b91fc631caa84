// The gitdisc host <-> agent wire protocol (DESIGN.md §6): message types and
// their encoding, shared by the host (guest/agent_client.h) and the agent.
//
// Framing: one JSON object per line ('\n'-terminated), UTF-8, at most
// kMaxLineBytes including the newline. Every object has a "type"; requests
// (host -> agent) and their replies carry a request "id" (a positive integer
// the host picks); events (progress, result, done) carry the operation id
// instead. See docs/agent.md for every message with an example.
//
// Both sides treat what they receive as untrusted: the decoders accept only
// the message types meant for their direction, reject unknown fields, check
// every field's type, and bound every string and list. Encoders never produce
// a line the peer's decoder would reject: over-long output tails are trimmed
// until the line fits.
//
// This file does no I/O (guest/line_reader.h frames lines over a ByteStream).
// All functions are pure and thread-safe.
#ifndef GITDISC_GUEST_PROTOCOL_H_
#define GITDISC_GUEST_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace gitdisc::guest {

// Version 1 is the only one so far. A peer speaking another version gets an
// `error` with code unsupported_version in reply to `hello`.
inline constexpr int kProtocolVersion = 1;
// The largest line either side sends or accepts, newline included.
inline constexpr size_t kMaxLineBytes = 1 << 20;
// Bounds on fields (checked by the decoders).
inline constexpr size_t kMaxPayloadsPerApply = 64;
inline constexpr size_t kMaxOutputTailBytes = 64 * 1024;
inline constexpr size_t kMaxTextBytes = 4096;  // messages, phases, versions, names of things
inline constexpr size_t kMaxRecords = 4096;    // ledger records / results / ops in one message
inline constexpr size_t kMaxCapabilities = 64;

// The virtio-serial port name the agent listens on (DESIGN.md §6).
inline constexpr char kChannelName[] = "org.gitdisc.agent.0";

// The outcome of one payload in one operation.
//   ok       ran and exited 0
//   failed   ran and exited non-zero or died by a signal (or could not start)
//   timeout  killed after the manifest's timeout
//   refused  not run: the disc did not match (digest, files) or was missing
//   skipped  not run: an earlier payload of the operation failed, or a reboot ended it
enum class Outcome { kOk, kFailed, kTimeout, kRefused, kSkipped };
const char* OutcomeName(Outcome o);
std::optional<Outcome> ParseOutcome(std::string_view s);

enum class OpState { kRunning, kFinished, kUnknown };
const char* OpStateName(OpState s);
std::optional<OpState> ParseOpState(std::string_view s);

enum class ErrorCode {
  kMalformed,           // not JSON, or not a JSON object
  kTooLong,             // line longer than kMaxLineBytes (the rest up to '\n' was dropped)
  kInvalid,             // JSON, but not a valid message (type, field, bound)
  kUnsupportedVersion,  // hello with a protocol version this side does not speak
  kBusy,                // another operation is running
  kInternal,            // the agent could not do what was asked (state dir, ...)
};
const char* ErrorCodeName(ErrorCode c);
std::optional<ErrorCode> ParseErrorCode(std::string_view s);

// One payload's result: what `result` events, `done`, `status` and the ledger
// carry. Times are RFC 3339 UTC ("2026-11-24T23:51:22Z"); empty when the
// payload did not run. exit_code: the exit status, 128+N for signal N, -1 when
// it did not run or could not start.
struct PayloadResult {
  std::string op_id;
  std::string payload;
  std::string version;
  std::string digest;  // the payload digest from the manifest (64 hex), may be empty if refused
  Outcome result = Outcome::kFailed;
  int exit_code = -1;
  std::string started_at;
  std::string finished_at;
  std::string output_tail;  // last bytes of stdout+stderr (or why it was refused/skipped)
  bool reboot = false;      // the agent reboots the guest after reporting this result
  bool operator==(const PayloadResult&) const = default;
};

// ---- host -> agent requests -------------------------------------------------

struct HelloRequest {
  uint64_t id = 0;
  int protocol = kProtocolVersion;
  std::string client;  // free text, e.g. "gitdisc/0.1.0"
  bool operator==(const HelloRequest&) const = default;
};

struct LedgerRequest {
  uint64_t id = 0;
  bool operator==(const LedgerRequest&) const = default;
};

// Applies payloads from the disc in the drive. Idempotent by op_id: an op id
// the agent has seen runs nothing again and reports what it recorded.
struct ApplyRequest {
  uint64_t id = 0;
  std::string op_id;                  // 1..128 of [A-Za-z0-9._:-]
  std::string manifest_digest;        // the bundle digest the host expects on the disc (64 hex)
  std::vector<std::string> payloads;  // names, in the order asked (1..kMaxPayloadsPerApply)
  bool operator==(const ApplyRequest&) const = default;
};

// "What is running / what finished": with op_id, that operation's state;
// without, the running operation (if any) and every operation that finished
// since the previous status request without op_id.
struct StatusRequest {
  uint64_t id = 0;
  std::optional<std::string> op_id;
  bool operator==(const StatusRequest&) const = default;
};

using HostMessage = std::variant<HelloRequest, LedgerRequest, ApplyRequest, StatusRequest>;

// ---- agent -> host ----------------------------------------------------------

struct HelloReply {
  uint64_t id = 0;
  int protocol = kProtocolVersion;
  std::string agent_version;
  std::vector<std::string> capabilities;  // e.g. "apply", "ledger", "status", "reboot", "mount"
  bool operator==(const HelloReply&) const = default;
};

// Every recorded run (ok, failed, timeout), oldest first; output tails are
// left out here (status {op_id} has them).
struct LedgerReply {
  uint64_t id = 0;
  std::vector<PayloadResult> records;
  bool operator==(const LedgerReply&) const = default;
};

// The reply to apply: the agent has the operation (state running), or had it
// already (state finished; a `done` follows at once).
struct ApplyAccepted {
  uint64_t id = 0;
  std::string op_id;
  OpState state = OpState::kRunning;
  bool operator==(const ApplyAccepted&) const = default;
};

struct OpStatus {
  std::string op_id;
  OpState state = OpState::kUnknown;
  std::string manifest_digest;
  std::string payload;                 // running: the payload being worked on ("" before the first)
  std::string phase;                   // running: e.g. "disc", "verify", "run"
  std::vector<PayloadResult> results;  // finished (and, so far, running) results
  bool disc_released = false;
  bool reboot = false;
  std::string message;  // why an operation was refused or failed as a whole
  bool operator==(const OpStatus&) const = default;
};

struct StatusReply {
  uint64_t id = 0;
  std::vector<OpStatus> ops;
  bool operator==(const StatusReply&) const = default;
};

struct ProgressEvent {
  std::string op_id;
  std::string payload;  // "" for steps of the whole operation
  std::string phase;
  std::string message;
  bool operator==(const ProgressEvent&) const = default;
};

struct ResultEvent {
  PayloadResult result;
  bool operator==(const ResultEvent&) const = default;
};

// The operation is over; if disc_released the drive is unmounted and unlocked
// and the host may eject. If reboot, the guest reboots right after this.
struct DoneEvent {
  std::string op_id;
  std::vector<PayloadResult> results;  // one per requested payload, in run order
  bool disc_released = false;
  bool reboot = false;
  std::string message;
  bool operator==(const DoneEvent&) const = default;
};

struct ErrorReply {
  std::optional<uint64_t> id;  // the request's id, when it could be read
  ErrorCode code = ErrorCode::kInvalid;
  std::string message;
  bool operator==(const ErrorReply&) const = default;
};

using AgentMessage = std::variant<HelloReply, LedgerReply, ApplyAccepted, StatusReply,
                                  ProgressEvent, ResultEvent, DoneEvent, ErrorReply>;

// ---- encoding ----------------------------------------------------------------

// One line, '\n'-terminated, at most kMaxLineBytes. Invalid UTF-8 in strings
// is replaced (U+FFFD); output tails are trimmed (oldest bytes first) when the
// line would not fit.
std::string EncodeHostMessage(const HostMessage& m);
std::string EncodeAgentMessage(const AgentMessage& m);

// Decode one line (with or without its '\n'). Failure is kInvalid with a
// message naming the field; the agent answers it with ErrorForBadLine().
Result<HostMessage> DecodeHostMessage(std::string_view line);
Result<AgentMessage> DecodeAgentMessage(std::string_view line);

// The error reply for a line DecodeHostMessage rejected: code malformed when
// the line is not a JSON object, invalid otherwise; id when one was readable.
ErrorReply ErrorForBadLine(std::string_view line, const Status& why);

// s with every byte that is not well-formed UTF-8 replaced by '?', cut to its
// last max_bytes bytes at a character boundary. Output tails pass through this
// before they are stored or sent, so encoding never grows them.
std::string BoundedUtf8Tail(std::string_view s, size_t max_bytes);

// Field rules, exposed for the agent and the host's own checks.
bool IsValidOpId(std::string_view s);
bool IsValidPayloadName(std::string_view s);  // [A-Za-z0-9][A-Za-z0-9._-]{0,62}
bool IsValidDigest(std::string_view s);       // 64 lower-case hex digits

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PROTOCOL_H_
