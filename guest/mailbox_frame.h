// The vSphere guestinfo mailbox's frame: how the agent protocol's bytes
// (docs/agent.md, the same newline-delimited JSON as on virtio-serial) travel
// through two guestinfo values of a VM — the host writes
// `guestinfo.gitdisc.request` (extraConfig, ReconfigVM_Task), the agent writes
// `guestinfo.gitdisc.reply` (`vmware-rpctool "info-set …"`), each side reads
// the other's.
//
// A value is one frame, printable ASCII, at most kMailboxMaxValueBytes:
//
//   gdm1 SESSION OFFSET ACK FLAGS DATA
//
// SESSION  1–32 of [0-9a-z], chosen by the host when it opens the channel; a
//          new session supersedes the old one (the channel is exclusive).
// OFFSET   where DATA starts in the sender's byte stream (decimal).
// ACK      how many of the peer's bytes the sender has received (decimal).
// FLAGS    "-", or "fin" when the sender has closed the stream.
// DATA     base64 of the sender's bytes [OFFSET, OFFSET+n) that the peer has
//          not acknowledged yet — a sender rewrites its value with every
//          unacknowledged byte (up to the window) and drops bytes once acked,
//          so a reader that missed a version loses nothing, and a value never
//          holds more than the window (chunking of long messages).
//
// Pure functions; thread-safe.
#ifndef GITDISC_GUEST_MAILBOX_FRAME_H_
#define GITDISC_GUEST_MAILBOX_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gitdisc::guest {

inline constexpr char kMailboxRequestKey[] = "guestinfo.gitdisc.request";
inline constexpr char kMailboxReplyKey[] = "guestinfo.gitdisc.reply";
// The size limit of one guestinfo value this mailbox keeps to.
inline constexpr size_t kMailboxMaxValueBytes = 64 * 1024;
// Raw bytes per frame: base64 of 45 KiB is 60 KiB, leaving room for the header.
inline constexpr size_t kMailboxWindowBytes = 45 * 1024;

struct MailboxFrame {
  std::string session;
  uint64_t offset = 0;
  uint64_t ack = 0;
  bool fin = false;
  std::string data;

  bool operator==(const MailboxFrame&) const = default;
};

// Whether s is a valid session id (1–32 of [0-9a-z]).
bool IsMailboxSession(std::string_view s);

// kInvalid when the frame would break the format (bad session, data over the
// window); the result is at most kMailboxMaxValueBytes.
Result<std::string> EncodeMailboxFrame(const MailboxFrame& frame);

// Strict: kInvalid for anything not exactly of the format above (one trailing
// newline, as vmware-rpctool prints it, is allowed).
Result<MailboxFrame> DecodeMailboxFrame(std::string_view value);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_MAILBOX_FRAME_H_
