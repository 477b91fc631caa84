// HostileAgent: the guest end of an agent channel run by an adversary, for
// tests and benchmarks of the host's bounds (docs/security.md, "A hostile
// guest"). It stands where guest::Agent::Serve would: on the guest end of a
// FakeProvider channel (a socketpair) or any ByteStream.
//
// The behaviours are those of tests/hostile/hostile_guests_e2e.sh's guests,
// so the in-process tests and the real-QEMU test attack the same way:
//   kNewlineFlood      "\n" as fast as the host reads
//   kJunkJsonFlood     well-formed JSON that is no message, as fast as it goes
//   kEndlessLine       bytes without a newline, as fast as it goes
//   kDripLine          one byte without a newline every 10 ms (never a line)
//   kStaleReplyFlood   valid hello replies to ids the host never sent
//   kMute              reads everything, answers nothing
//   kEventFloodOnApply a well-behaved agent (hello, empty ledger, status)
//                      until an apply arrives; then progress events of that
//                      operation, as fast as they go, and never a `done`
//
// Writes block while the host does not read and fail once the host closes
// its end, which ends the flood; the destructor stops it and joins. SIGPIPE
// is ignored process-wide from the first construction (test processes only).
// Thread-safe counters; otherwise owned by one test.
#ifndef GITDISC_TESTS_SUPPORT_HOSTILE_AGENT_H_
#define GITDISC_TESTS_SUPPORT_HOSTILE_AGENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/byte_stream.h"

namespace gitdisc::testing {

enum class Hostility {
  kNewlineFlood,
  kJunkJsonFlood,
  kEndlessLine,
  kDripLine,
  kStaleReplyFlood,
  kMute,
  kEventFloodOnApply,
};
const char* HostilityName(Hostility h);  // "newline-flood", "junk-json-flood", ...
std::optional<Hostility> ParseHostility(std::string_view name);

class HostileAgent {
 public:
  HostileAgent(Hostility mode, std::unique_ptr<ByteStream> stream);
  ~HostileAgent();
  HostileAgent(const HostileAgent&) = delete;
  HostileAgent& operator=(const HostileAgent&) = delete;

  uint64_t bytes_sent() const { return sent_.load(); }
  int applies_seen() const { return applies_.load(); }
  // The flood ended (the host closed its end, or Stop).
  bool finished() const { return finished_.load(); }
  void Stop();

 private:
  void Run();
  void Flood(std::string_view unit);
  void ServeUntilApply();

  Hostility mode_;
  std::unique_ptr<ByteStream> stream_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> sent_{0};
  std::atomic<int> applies_{0};
  std::thread thread_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_HOSTILE_AGENT_H_
