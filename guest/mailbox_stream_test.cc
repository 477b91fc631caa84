// MailboxStream over an in-memory mailbox (two values, as guestinfo holds
// them): ordering, chunking through the window, acknowledgement, sessions,
// untrusted values; and the real Agent behind it answering AgentClient.
#include "guest/mailbox_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "guest/agent.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;

// One VM's two guestinfo values.
struct MemoryMailbox {
  std::mutex mu;
  std::string request, reply;
  int request_writes = 0, reply_writes = 0;
  size_t largest_value = 0;
};

class MemorySlots final : public MailboxSlots {
 public:
  MemorySlots(std::shared_ptr<MemoryMailbox> box, bool host) : box_(std::move(box)), host_(host) {}
  Result<std::string> ReadPeer() override {
    std::lock_guard<std::mutex> l(box_->mu);
    return host_ ? box_->reply : box_->request;
  }
  Status WriteOwn(const std::string& value) override {
    std::lock_guard<std::mutex> l(box_->mu);
    box_->largest_value = std::max(box_->largest_value, value.size());
    (host_ ? box_->request : box_->reply) = value;
    ++(host_ ? box_->request_writes : box_->reply_writes);
    return Status::Ok();
  }

 private:
  std::shared_ptr<MemoryMailbox> box_;
  bool host_;
};

MailboxOptions Fast() {
  MailboxOptions o;
  o.min_poll = milliseconds(1);
  o.max_poll = milliseconds(5);
  o.write_timeout = milliseconds(2000);
  o.ack_delay = milliseconds(20);
  return o;
}

// Reads exactly n bytes (or fails the test).
std::string ReadN(ByteStream& s, size_t n, milliseconds timeout = milliseconds(5000)) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    auto got = s.Read(buf, std::min(sizeof buf, n - out.size()), timeout);
    if (!got.ok()) {
      ADD_FAILURE() << got.status().ToString();
      return out;
    }
    if (*got == 0) {
      ADD_FAILURE() << "end of stream after " << out.size() << " bytes";
      return out;
    }
    out.append(buf, *got);
  }
  return out;
}

// The guest joins the session the host's first frame announces.
std::unique_ptr<MailboxStream> Join(const std::shared_ptr<MemoryMailbox>& box,
                                    MailboxOptions o = Fast()) {
  std::string v;
  for (int i = 0; i < 2000 && v.empty(); ++i) {
    {
      std::lock_guard<std::mutex> l(box->mu);
      v = box->request;
    }
    if (v.empty()) std::this_thread::sleep_for(milliseconds(1));
  }
  auto f = DecodeMailboxFrame(v);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (!f.ok()) return nullptr;
  return MailboxStream::JoinGuest(std::make_unique<MemorySlots>(box, false), *f, o);
}

TEST(MailboxStream, CarriesBytesBothWaysInOrder) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "s1", Fast());
  ASSERT_TRUE(host->Write("hello\n").ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 6), "hello\n");
  ASSERT_TRUE(guest->Write("hi there\n").ok());
  ASSERT_TRUE(guest->Write("second\n").ok());
  EXPECT_EQ(ReadN(*host, 16), "hi there\nsecond\n");
  ASSERT_TRUE(host->Write("more\n").ok());
  EXPECT_EQ(ReadN(*guest, 5), "more\n");
}

TEST(MailboxStream, ChunksAMegabyteThroughTheWindowAndNoValueExceedsTheLimit) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "big", Fast());
  std::string payload;
  for (int i = 0; payload.size() < (1u << 20); ++i) payload += std::to_string(i) + ",";
  ASSERT_TRUE(host->Write("x").ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 1), "x");
  std::thread writer([&] { EXPECT_TRUE(guest->Write(payload).ok()); });
  EXPECT_EQ(ReadN(*host, payload.size()), payload);
  writer.join();
  EXPECT_LE(box->largest_value, kMailboxMaxValueBytes);
  EXPECT_GE(box->reply_writes, static_cast<int>(payload.size() / kMailboxWindowBytes));
}

TEST(MailboxStream, AReaderThatMissedVersionsLosesNothing) {
  // The guest writes three times before the host looks once: every byte is
  // still in the latest value, because unacknowledged bytes stay in it.
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "s2", Fast());
  ASSERT_TRUE(host->Write("q\n").ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 2), "q\n");
  ASSERT_TRUE(guest->Write("a\n").ok());
  ASSERT_TRUE(guest->Write("b\n").ok());
  ASSERT_TRUE(guest->Write("c\n").ok());
  EXPECT_EQ(ReadN(*host, 6), "a\nb\nc\n");
}

TEST(MailboxStream, TheReceiverAcknowledgesSoTheSendersValueShrinks) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "s3", Fast());
  ASSERT_TRUE(host->Write(std::string(1000, 'h')).ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 1000).size(), 1000u);
  // The guest's reply carries its ack; the host's next write drops the bytes.
  ASSERT_TRUE(guest->Write("ok\n").ok());
  EXPECT_EQ(ReadN(*host, 3), "ok\n");
  ASSERT_TRUE(host->Write("n").ok());
  auto f = DecodeMailboxFrame(box->request);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->offset, 1000u);
  EXPECT_EQ(f->data, "n");
  EXPECT_EQ(f->ack, 3u);
}

TEST(MailboxStream, ANewSessionEndsTheGuestsStreamAndNamesItsSuccessor) {
  auto box = std::make_shared<MemoryMailbox>();
  auto first = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "one", Fast());
  ASSERT_TRUE(first->Write("1\n").ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 2), "1\n");
  auto second = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "two", Fast());
  ASSERT_TRUE(second->Write("2\n").ok());
  char c;
  auto got = guest->Read(&c, 1, milliseconds(2000));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 0u);
  ASSERT_TRUE(guest->superseded_by().has_value());
  EXPECT_EQ(guest->superseded_by()->session, "two");
  // The old host end ignores replies of the new session.
  auto next = MailboxStream::JoinGuest(std::make_unique<MemorySlots>(box, false),
                                       *guest->superseded_by(), Fast());
  EXPECT_EQ(ReadN(*next, 2), "2\n");
  ASSERT_TRUE(next->Write("for two\n").ok());
  EXPECT_EQ(first->Read(&c, 1, milliseconds(100)).status().code(), Status::Code::kTimeout);
  EXPECT_EQ(ReadN(*second, 8), "for two\n");
}

TEST(MailboxStream, HostCloseSendsFinAndTheGuestReadsEndOfStream) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "bye", Fast());
  ASSERT_TRUE(host->Write("last words\n").ok());
  host->Close();
  host->Close();  // idempotent
  EXPECT_FALSE(host->Write("x").ok());
  auto guest = Join(box);
  ASSERT_TRUE(guest);
  EXPECT_EQ(ReadN(*guest, 11), "last words\n");
  char c;
  auto got = guest->Read(&c, 1, milliseconds(1000));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, 0u);
  EXPECT_FALSE(guest->superseded_by().has_value());
}

TEST(MailboxStream, GarbageAndForeignValuesAreIgnored) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "g", Fast());
  ASSERT_TRUE(host->Write("x").ok());
  box->reply = "not a frame at all";
  char c;
  EXPECT_EQ(host->Read(&c, 1, milliseconds(50)).status().code(), Status::Code::kTimeout);
  box->reply = "gdm1 other 0 0 - eXl5";
  EXPECT_EQ(host->Read(&c, 1, milliseconds(50)).status().code(), Status::Code::kTimeout);
  box->reply = "gdm1 g 0 1 - eXl5";  // "yyy", acking our one byte
  EXPECT_EQ(ReadN(*host, 3), "yyy");
}

TEST(MailboxStream, APeerThatSkipsOrOverAcknowledgesIsCorrupt) {
  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "c", Fast());
  ASSERT_TRUE(host->Write("x").ok());
  char c;
  box->reply = "gdm1 c 5 0 - eXl5";  // data from offset 5: bytes 0..4 never came
  EXPECT_EQ(host->Read(&c, 1, milliseconds(50)).status().code(), Status::Code::kCorrupt);
  box->reply = "gdm1 c 0 9 - ";  // acknowledges 9 of our 1 byte
  EXPECT_EQ(host->Read(&c, 1, milliseconds(50)).status().code(), Status::Code::kCorrupt);
}

TEST(MailboxStream, AWriteIntoAFullWindowTimesOutWhenNobodyReads) {
  auto box = std::make_shared<MemoryMailbox>();
  MailboxOptions o = Fast();
  o.write_timeout = milliseconds(100);
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "w", o);
  auto t0 = std::chrono::steady_clock::now();
  Status s = host->Write(std::string(kMailboxWindowBytes + 10, 'z'));
  EXPECT_EQ(s.code(), Status::Code::kTimeout) << s.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(MailboxStream, SlotErrorsReachTheCaller) {
  class Failing final : public MailboxSlots {
   public:
    Result<std::string> ReadPeer() override { return Status::Unavailable("vCenter is gone"); }
    Status WriteOwn(const std::string&) override { return Status::Unavailable("vCenter is gone"); }
  };
  auto host = MailboxStream::OpenHost(std::make_unique<Failing>(), "e", Fast());
  EXPECT_EQ(host->Write("x").code(), Status::Code::kUnavailable);
  char c;
  EXPECT_EQ(host->Read(&c, 1, milliseconds(50)).status().code(), Status::Code::kUnavailable);
}

TEST(MailboxStream, NewSessionsAreValidAndDiffer) {
  std::string a = NewMailboxSession(), b = NewMailboxSession();
  EXPECT_TRUE(IsMailboxSession(a));
  EXPECT_NE(a, b);
}

// The real agent behind the mailbox: AgentClient speaks the same protocol as
// over virtio-serial, and an apply's results come back through the window.
TEST(MailboxStream, AgentClientAndTheRealAgentTalkThroughIt) {
  testing::TempDir tmp;
  std::string err;
  std::string digest = testing::WriteBundle(
      {testing::ScriptPayload("big-output", "head -c 70000 /dev/zero | tr '\\0' 'a'; echo\n")},
      tmp / "disc.iso", &err);
  ASSERT_FALSE(digest.empty()) << err;
  auto agent = testing::MakeDiscAgent(tmp.path(), tmp / "disc.iso");
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();

  auto box = std::make_shared<MemoryMailbox>();
  auto host = MailboxStream::OpenHost(std::make_unique<MemorySlots>(box, true), "agent", Fast());
  MailboxStream* host_raw = host.get();
  AgentClient::Options co;
  co.request_timeout = milliseconds(5000);
  AgentClient client(std::move(host), co);
  std::thread guest_side([&] {
    auto guest = Join(box);
    if (guest) {
      EXPECT_TRUE((*agent)->Serve(guest.get()).ok());
    }
  });
  auto hello = client.Hello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  ASSERT_TRUE(client.Apply("op-mb", digest, {"big-output"}).ok());
  auto done = client.WaitForDone("op-mb", std::chrono::steady_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->results.size(), 1u);
  EXPECT_EQ(done->results[0].result, Outcome::kOk);
  EXPECT_EQ(done->results[0].output_tail.size(), 64u * 1024);  // the agent's tail bound
  EXPECT_GT(host_raw->writes(), 0u);
  host_raw->Close();  // fin: the agent's Serve returns
  guest_side.join();
  (*agent)->WaitIdle();
  EXPECT_LE(box->largest_value, kMailboxMaxValueBytes);
}

}  // namespace
}  // namespace gitdisc::guest
