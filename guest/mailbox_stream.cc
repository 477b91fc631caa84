#include "guest/mailbox_stream.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

namespace gitdisc::guest {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string NewMailboxSession() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string s;
  for (int i = 0; i < 16; ++i) s += "0123456789abcdef"[hex(rd)];
  return s;
}

MailboxStream::MailboxStream(std::unique_ptr<MailboxSlots> slots, Role role, std::string session,
                             MailboxOptions options)
    : slots_(std::move(slots)),
      role_(role),
      session_(std::move(session)),
      options_(options) {}

std::unique_ptr<MailboxStream> MailboxStream::OpenHost(std::unique_ptr<MailboxSlots> slots,
                                                       std::string session,
                                                       MailboxOptions options) {
  return std::unique_ptr<MailboxStream>(
      new MailboxStream(std::move(slots), Role::kHost, std::move(session), options));
}

std::unique_ptr<MailboxStream> MailboxStream::JoinGuest(std::unique_ptr<MailboxSlots> slots,
                                                        const MailboxFrame& first,
                                                        MailboxOptions options) {
  std::unique_ptr<MailboxStream> s(
      new MailboxStream(std::move(slots), Role::kGuest, first.session, options));
  // What the host already had acknowledged was consumed by an earlier agent
  // (or never existed): continue where the frame says the streams stand.
  s->in_received_ = first.offset;
  s->in_acked_ = first.offset;
  s->out_base_ = first.ack;
  std::lock_guard<std::mutex> l(s->mu_);
  (void)s->AcceptFrameLocked(first);  // cannot fail: the offsets match by construction
  return s;
}

MailboxStream::~MailboxStream() { Close(); }

std::optional<MailboxFrame> MailboxStream::superseded_by() const {
  std::lock_guard<std::mutex> l(mu_);
  return superseded_;
}

uint64_t MailboxStream::writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

Status MailboxStream::AcceptFrameLocked(const MailboxFrame& f) {
  const uint64_t sent_end = out_base_ + out_in_slot_;
  if (f.ack > sent_end) {
    return Status::Corrupt("mailbox " + session_ + ": the peer acknowledged " +
                           std::to_string(f.ack) + " bytes, only " + std::to_string(sent_end) +
                           " were sent");
  }
  if (f.ack > out_base_) {
    size_t drop = static_cast<size_t>(f.ack - out_base_);
    out_.erase(0, drop);
    out_in_slot_ -= drop;
    out_base_ = f.ack;
  }
  if (f.offset > in_received_) {
    return Status::Corrupt("mailbox " + session_ + ": the peer's data starts at " +
                           std::to_string(f.offset) + ", " + std::to_string(in_received_) +
                           " bytes were received");
  }
  const uint64_t end = f.offset + f.data.size();
  if (end > in_received_) {
    if (in_received_ == in_acked_) received_at_ = SteadyClock::now();
    in_.append(f.data, static_cast<size_t>(in_received_ - f.offset), std::string::npos);
    in_received_ = end;
  }
  if (f.fin) peer_fin_ = true;
  return Status::Ok();
}

Status MailboxStream::PollLocked() {
  GITDISC_ASSIGN_OR_RETURN(std::string value, slots_->ReadPeer());
  if (value.empty()) return Status::Ok();
  auto frame = DecodeMailboxFrame(value);
  // Whatever the other side wrote is untrusted: an undecodable value is
  // ignored like an absent one (the next version may be fine).
  if (!frame.ok()) return Status::Ok();
  if (frame->session != session_) {
    if (role_ == Role::kGuest) superseded_ = std::move(frame).value();
    return Status::Ok();  // a host ignores replies of earlier sessions
  }
  return AcceptFrameLocked(*frame);
}

bool MailboxStream::HasUnsentLocked() const {
  return out_in_slot_ < std::min(out_.size(), options_.window);
}

Status MailboxStream::WriteSlotLocked(bool fin) {
  MailboxFrame f;
  f.session = session_;
  f.offset = out_base_;
  f.ack = in_received_;
  f.fin = fin;
  size_t n = std::min(out_.size(), options_.window);
  f.data = out_.substr(0, n);
  GITDISC_ASSIGN_OR_RETURN(std::string value, EncodeMailboxFrame(f));
  GITDISC_RETURN_IF_ERROR(slots_->WriteOwn(value));
  out_in_slot_ = n;
  in_acked_ = in_received_;
  last_write_ = SteadyClock::now();
  ++writes_;
  return Status::Ok();
}

Result<size_t> MailboxStream::Read(char* buf, size_t n, milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  const auto deadline = SteadyClock::now() + timeout;
  milliseconds nap = options_.min_poll;
  for (;;) {
    if (closed_) return Status::Io("read mailbox " + session_ + ": stream closed");
    if (!in_.empty()) {
      size_t k = std::min(n, in_.size());
      std::memcpy(buf, in_.data(), k);
      in_.erase(0, k);
      return k;
    }
    if (peer_fin_ || superseded_) return size_t{0};
    const uint64_t before = in_received_ + out_base_;
    GITDISC_RETURN_IF_ERROR(PollLocked());
    const bool progressed = in_received_ + out_base_ != before;
    const auto now = SteadyClock::now();
    const uint64_t unacked = in_received_ - in_acked_;
    if (HasUnsentLocked() ||
        (unacked > 0 && (unacked >= options_.window / 2 ||
                         now - received_at_ >= options_.ack_delay))) {
      GITDISC_RETURN_IF_ERROR(WriteSlotLocked(false));
    }
    if (!in_.empty() || peer_fin_ || superseded_) continue;
    if (now >= deadline) {
      return Status::Timeout("read mailbox " + session_ + ": nothing arrived in " +
                             std::to_string(timeout.count()) + " ms");
    }
    nap = progressed ? options_.min_poll : std::min(nap * 2, options_.max_poll);
    auto sleep = std::min<SteadyClock::duration>(nap, deadline - now);
    l.unlock();
    std::this_thread::sleep_for(sleep);
    l.lock();
  }
}

Status MailboxStream::Write(std::string_view data) {
  std::unique_lock<std::mutex> l(mu_);
  if (closed_) return Status::Io("write mailbox " + session_ + ": stream closed");
  out_.append(data);
  const auto deadline = SteadyClock::now() + options_.write_timeout;
  milliseconds nap = options_.min_poll;
  for (;;) {
    if (HasUnsentLocked()) GITDISC_RETURN_IF_ERROR(WriteSlotLocked(false));
    if (out_in_slot_ == out_.size()) return Status::Ok();
    if (superseded_) return Status::Io("write mailbox " + session_ + ": superseded by a new session");
    if (SteadyClock::now() >= deadline) {
      return Status::Timeout("write mailbox " + session_ + ": the window stayed full for " +
                             std::to_string(options_.write_timeout.count()) +
                             " ms (the peer is not reading)");
    }
    const uint64_t before = out_base_;
    GITDISC_RETURN_IF_ERROR(PollLocked());
    if (out_base_ != before) {
      nap = options_.min_poll;
      continue;
    }
    nap = std::min(nap * 2, options_.max_poll);
    l.unlock();
    std::this_thread::sleep_for(nap);
    l.lock();
    if (closed_) return Status::Io("write mailbox " + session_ + ": stream closed");
  }
}

void MailboxStream::Close() {
  std::lock_guard<std::mutex> l(mu_);
  if (closed_) return;
  closed_ = true;
  // The host says goodbye so the agent's Read ends now rather than when the
  // next session appears; a guest never closes a session.
  if (role_ == Role::kHost && writes_ > 0) (void)WriteSlotLocked(/*fin=*/true);
}

}  // namespace gitdisc::guest
