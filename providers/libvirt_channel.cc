// The agent channel (DESIGN.md §6): the VM's org.gitdisc.agent.0
// virtio-serial port, opened with virDomainOpenChannel (FORCE: the channel is
// exclusive and one controller per VM owns it) as a non-blocking stream.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "providers/domain_xml.h"
#include "providers/libvirt_connection.h"
#include "providers/libvirt_provider.h"

namespace gitdisc {
namespace {

// A ByteStream over a non-blocking libvirt stream. virStreamRecv returns -2
// when no data is buffered; data arrives through the event loop thread, so a
// read polls with short sleeps until its deadline. A stream whose libvirtd
// went away (restarted, host down) may keep answering -2, so a waiting read
// also checks, about once a second, that the connection is still alive.
class ChannelStream final : public ByteStream {
 public:
  ChannelStream(StreamPtr st, ConnPtr conn, std::string what)
      : st_(std::move(st)), conn_(std::move(conn)), what_(std::move(what)) {}
  ~ChannelStream() override { Close(); }

  Result<size_t> Read(char* buf, size_t n, std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto nap = std::chrono::milliseconds(1);
    for (;;) {
      int got;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!st_) return Status::Io("read " + what_ + ": stream closed");
        got = virStreamRecv(st_.get(), buf, n);
        if (got == -1) return LibvirtError("virStreamRecv", what_);
      }
      if (got >= 0) return static_cast<size_t>(got);
      auto now = std::chrono::steady_clock::now();
      if (now >= next_alive_check_) {
        next_alive_check_ = now + std::chrono::seconds(1);
        if (conn_ && virConnectIsAlive(conn_.get()) != 1) {
          return Status::Unavailable("read " + what_ + ": the connection to libvirtd is closed");
        }
      }
      if (now >= deadline) {
        return Status::Timeout("read " + what_ + ": nothing arrived in " +
                               std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(nap, deadline - now));
      nap = std::min(nap * 2, std::chrono::milliseconds(20));
    }
  }

  Status Write(std::string_view data) override {
    auto last_progress = std::chrono::steady_clock::now();
    auto nap = std::chrono::milliseconds(1);
    while (!data.empty()) {
      int sent;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!st_) return Status::Io("write " + what_ + ": stream closed");
        sent = virStreamSend(st_.get(), data.data(), data.size());
        if (sent == -1) return LibvirtError("virStreamSend", what_);
      }
      if (sent > 0) {
        data.remove_prefix(static_cast<size_t>(sent));
        last_progress = std::chrono::steady_clock::now();
        nap = std::chrono::milliseconds(1);
        continue;
      }
      if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(30)) {
        return Status::Timeout("write " + what_ + ": no progress for 30 s");
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::milliseconds(20));
    }
    return Status::Ok();
  }

  void Close() override {
    std::lock_guard<std::mutex> l(mu_);
    if (!st_) return;
    virStreamAbort(st_.get());  // ends the channel now; nothing is left to flush
    virResetLastError();
    st_.reset();
  }

 private:
  std::mutex mu_;
  StreamPtr st_;
  ConnPtr conn_;
  const std::string what_;
  std::chrono::steady_clock::time_point next_alive_check_{};
};

}  // namespace

Result<std::unique_ptr<ByteStream>> LibvirtProvider::OpenAgentChannel(const std::string& key) {
  GITDISC_ASSIGN_OR_RETURN(DomainRef ref, Lookup(hosts_, sink_, reconnects_, key));
  virDomainPtr dom = ref.dom.get();
  GITDISC_ASSIGN_OR_RETURN(std::string xml, RunningDomainXml(ref, "OpenAgentChannel"));
  GITDISC_ASSIGN_OR_RETURN(ParsedDomain parsed, ParseDomainXml(xml));
  if (!parsed.has_agent_channel) {
    return Status::NotFound("OpenAgentChannel " + ref.name + ": the domain has no channel " +
                            kAgentChannelName);
  }
  StreamPtr st(virStreamNew(ref.conn.get(), VIR_STREAM_NONBLOCK));
  if (!st) return LibvirtError("virStreamNew", ref.name);
  if (virDomainOpenChannel(dom, kAgentChannelName, st.get(), VIR_DOMAIN_CHANNEL_FORCE) < 0) {
    return LibvirtError("virDomainOpenChannel", ref.name);
  }
  virConnectRef(ref.conn.get());  // the stream's own reference, for IsAlive
  return std::unique_ptr<ByteStream>(std::make_unique<ChannelStream>(
      std::move(st), ConnPtr(ref.conn.get()), ref.name + " " + kAgentChannelName));
}

}  // namespace gitdisc
