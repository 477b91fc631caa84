// MailboxStream: a ByteStream over the guestinfo mailbox (guest/mailbox_frame.h)
// — the host's agent channel on vSphere (providers/vsphere_provider.h) and the
// agent's `--transport vmware-guestinfo` (guest/agent_transport.h). Both ends
// run this same class; only how a slot is read and written differs
// (MailboxSlots: SOAP on the host, vmware-rpctool in the guest, the
// simulator's API in tests).
//
// Reliable and ordered, by byte offsets: each side's slot holds every byte the
// peer has not acknowledged (up to the window), and each frame carries the
// count of the peer's bytes received. A sender blocks while the window is
// full; a receiver acknowledges when half a window arrived unacknowledged,
// after ack_delay, or with its own next write. Slots are polled (min_poll,
// doubling to max_poll while nothing changes): guestinfo has no notification.
//
// Sessions: the host opens one with a fresh id (OpenHost); the guest joins it
// when a request frame with an unknown id appears (JoinGuest). A newer session
// supersedes the current one: the guest's Read then returns end of stream and
// superseded_by() holds the new session's frame; a host ignores reply frames
// of other sessions. The host's Close() writes a final `fin` frame (with its
// last ack) so the guest's Read ends; a `fin` from the peer ends Read once
// its data is consumed.
//
// Thread-safety: one reader and one writer thread at a time (ByteStream's
// rule); a mutex serialises slot access between them.
#ifndef GITDISC_GUEST_MAILBOX_STREAM_H_
#define GITDISC_GUEST_MAILBOX_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/byte_stream.h"
#include "base/status.h"
#include "guest/mailbox_frame.h"

namespace gitdisc::guest {

// The two values of one VM's mailbox, from one side's point of view.
class MailboxSlots {
 public:
  virtual ~MailboxSlots() = default;
  // The peer's current value; "" when it holds nothing.
  virtual Result<std::string> ReadPeer() = 0;
  // Replaces our own value.
  virtual Status WriteOwn(const std::string& value) = 0;
};

struct MailboxOptions {
  std::chrono::milliseconds min_poll{10};
  std::chrono::milliseconds max_poll{200};
  // Write fails with kTimeout when the window stayed full this long.
  std::chrono::milliseconds write_timeout{30'000};
  size_t window = kMailboxWindowBytes;
  // Received bytes are acknowledged at the latest after this long.
  std::chrono::milliseconds ack_delay{300};
};

// A fresh random session id (16 of [0-9a-f]).
std::string NewMailboxSession();

class MailboxStream final : public ByteStream {
 public:
  // The host end of a new session `session` (IsMailboxSession).
  static std::unique_ptr<MailboxStream> OpenHost(std::unique_ptr<MailboxSlots> slots,
                                                 std::string session, MailboxOptions options);
  // The guest end of the session that `first` (a request frame) announced. A
  // guest that joins late (e.g. the agent restarted) continues from the
  // frame's offsets.
  static std::unique_ptr<MailboxStream> JoinGuest(std::unique_ptr<MailboxSlots> slots,
                                                  const MailboxFrame& first,
                                                  MailboxOptions options);
  ~MailboxStream() override;

  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) override;
  Status Write(std::string_view data) override;
  void Close() override;

  // Guest: the request frame of the session that replaced this one.
  std::optional<MailboxFrame> superseded_by() const;
  const std::string& session() const { return session_; }
  // Slot writes so far (each is a ReconfigVM_Task on the host).
  uint64_t writes() const;

 private:
  enum class Role { kHost, kGuest };
  MailboxStream(std::unique_ptr<MailboxSlots> slots, Role role, std::string session,
                MailboxOptions options);

  // Require mu_.
  Status PollLocked();
  Status AcceptFrameLocked(const MailboxFrame& f);
  Status WriteSlotLocked(bool fin);
  bool HasUnsentLocked() const;
  bool EndedLocked() const { return peer_fin_ || superseded_.has_value(); }

  std::unique_ptr<MailboxSlots> slots_;
  const Role role_;
  const std::string session_;
  const MailboxOptions options_;

  mutable std::mutex mu_;
  std::string out_;          // our bytes from out_base_ on, not yet acknowledged
  uint64_t out_base_ = 0;    // stream offset of out_[0]
  size_t out_in_slot_ = 0;   // how much of out_ our slot holds
  uint64_t in_received_ = 0; // peer bytes received
  uint64_t in_acked_ = 0;    // the ack our slot carries
  std::string in_;           // received, not yet read
  bool peer_fin_ = false;
  bool closed_ = false;
  std::optional<MailboxFrame> superseded_;
  std::chrono::steady_clock::time_point last_write_{};
  std::chrono::steady_clock::time_point received_at_{};
  uint64_t writes_ = 0;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_MAILBOX_STREAM_H_
