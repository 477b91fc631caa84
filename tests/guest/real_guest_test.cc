// The agent in a real guest: boots the test guest (tests/guest/build-guest.sh:
// Debian kernel + busybox initramfs + static gitdisc-agent) under QEMU/TCG
// through libvirt, talks to the agent over org.gitdisc.agent.0 via
// virDomainOpenChannel (LibvirtProvider::OpenAgentChannel), inserts bundle
// ISOs written by iso/ with LibvirtProvider::InsertMedia, and checks what the
// agent does. One VM runs the whole sequence (TCG boots are slow).
//
// Needs root, libvirtd (started by EnsureLibvirtd) and QEMU: CTest label `vm`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "base/file_util.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"
#include "providers/libvirt_provider.h"
#include "tests/support/test_domain.h"

namespace gitdisc::guest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ScriptPayload;

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string Describe(const DoneEvent& d) {
  std::string s = "op " + d.op_id + " message='" + d.message + "'";
  for (const auto& r : d.results) {
    s += "\n  " + r.payload + ": " + OutcomeName(r.result) + " exit " +
         std::to_string(r.exit_code) + " tail='" + r.output_tail + "'";
  }
  return s;
}

class RealGuest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && domain_) {
      std::printf("---- guest serial console ----\n%s\n---- end ----\n",
                  domain_->ConsoleText().c_str());
    }
  }

  std::unique_ptr<AgentClient> Connect() {
    auto channel = provider_->OpenAgentChannel(domain_->key());
    EXPECT_TRUE(channel.ok()) << channel.status().ToString();
    if (!channel.ok()) return nullptr;
    AgentClient::Options o;
    o.request_timeout = milliseconds(3000);
    o.max_attempts = 20;  // the agent may still be starting: bytes are dropped until it listens
    o.status_interval = milliseconds(3000);
    return std::make_unique<AgentClient>(std::move(*channel), o);
  }

  Result<DoneEvent> Apply(AgentClient& c, const std::string& op, const std::string& digest,
                          const std::vector<std::string>& names,
                          std::vector<ProgressEvent>* progress = nullptr) {
    auto acc = c.Apply(op, digest, names);
    if (!acc.ok()) return acc.status();
    return c.WaitForDone(op, std::chrono::steady_clock::now() + std::chrono::minutes(2),
                         [&](const AgentMessage& m) {
                           if (auto* p = std::get_if<ProgressEvent>(&m); p && progress) {
                             progress->push_back(*p);
                           }
                         });
  }

  // Writes a bundle ISO into the domain's work dir (readable by QEMU).
  std::string WriteDisc(const std::string& file, std::vector<iso::BundlePayload> payloads,
                        std::string* digest) {
    std::string path = domain_->work_dir() + "/" + file;
    std::string err;
    *digest = testing::WriteBundle(std::move(payloads), path, &err);
    EXPECT_FALSE(digest->empty()) << err;
    ::chmod(path.c_str(), 0644);
    return path;
  }

  std::unique_ptr<test_support::TestDomain> domain_;
  std::unique_ptr<LibvirtProvider> provider_;
};

TEST_F(RealGuest, AgentAppliesRefusesRecordsAndSurvivesARestart) {
  ASSERT_TRUE(test_support::EnsureLibvirtd().ok());
  (void)test_support::ReapLeftoverTestDomains();
  std::string guest = GITDISC_GUEST_DIR;
  ASSERT_TRUE(PathExists(guest + "/vmlinuz")) << "build the guest-image target first";

  test_support::TestDomainOptions opts;
  opts.name_hint = "agent";
  opts.kernel = guest + "/vmlinuz";
  opts.initrd = guest + "/initrd.img";
  opts.cmdline_extra = "quiet panic=-1";
  auto domain = test_support::TestDomain::Create(opts);
  ASSERT_TRUE(domain.ok()) << domain.status().ToString();
  domain_ = std::move(*domain);
  auto provider = LibvirtProvider::Open({domain_->uri()});
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  provider_ = std::move(*provider);

  Status up = domain_->WaitForConsoleLine("gitdisc-agent: listening on", milliseconds(150'000));
  ASSERT_TRUE(up.ok()) << up.ToString();

  auto client = Connect();
  ASSERT_NE(client, nullptr);
  {
    SCOPED_TRACE("hello and an empty ledger through virDomainOpenChannel");
    auto hello = client->Hello();
    ASSERT_TRUE(hello.ok()) << hello.status().ToString() << "\n" << domain_->ConsoleText();
    EXPECT_EQ(hello->protocol, kProtocolVersion);
    auto ledger = client->Ledger();
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    EXPECT_TRUE(ledger->empty());
  }

  // The bundle: a payload with a visible effect (a line on the serial
  // console, with a file read from the disc), a failing one, and one that
  // makes the guest's init restart the agent shortly after it returns.
  std::string digest;
  std::string disc = WriteDisc(
      "bundle.iso",
      {ScriptPayload("motd",
                     "echo \"gitdisc-payload: motd $GITDISC_VERSION $(cat data/readme.txt)\" "
                     "> /dev/console\n"
                     "echo \"$GREETING from $(pwd)\"\n",
                     {{"GREETING", "hello"}}),
       ScriptPayload("broken", "echo about to fail; echo on stderr >&2; exit 7\n"),
       ScriptPayload("restart-agent",
                     // The killer must be in its own session before this script
                     // exits: the agent kills what is left in the payload's group.
                     "rm -f /tmp/killer-ready\n"
                     "setsid sh -c 'touch /tmp/killer-ready; sleep 2; killall gitdisc-agent' "
                     "</dev/null >/dev/null 2>&1 &\n"
                     "while [ ! -f /tmp/killer-ready ]; do usleep 50000; done\n"
                     "echo scheduled\n")},
      &digest);
  ASSERT_FALSE(digest.empty());
  ASSERT_TRUE(provider_->InsertMedia(domain_->key(), "hdc", disc).ok());

  {
    SCOPED_TRACE("apply: results come back and the effect is on the console");
    std::vector<ProgressEvent> progress;
    auto done = Apply(*client, "op-1", digest, {"motd"}, &progress);
    ASSERT_TRUE(done.ok()) << done.status().ToString() << "\n" << domain_->ConsoleText();
    ASSERT_EQ(done->results.size(), 1u) << Describe(*done);
    EXPECT_EQ(done->results[0].result, Outcome::kOk) << Describe(*done);
    EXPECT_EQ(done->results[0].exit_code, 0);
    EXPECT_EQ(done->results[0].output_tail, "hello from /var/lib/gitdisc-agent/run/disc/P/motd\n");
    EXPECT_TRUE(done->disc_released);
    bool mounted = false;
    for (const auto& p : progress) mounted |= p.phase == "mount";
    EXPECT_TRUE(mounted) << "the real guest must mount the disc (iso9660), not extract it";
    ASSERT_TRUE(
        domain_->WaitForConsoleLine("gitdisc-payload: motd 1 payload motd", seconds(30)).ok());
  }

  {
    SCOPED_TRACE("a disc whose digest differs from the host's is refused, nothing runs");
    std::string other_digest;
    std::string other = WriteDisc(
        "other.iso", {ScriptPayload("motd", "echo tampered > /dev/console\n")}, &other_digest);
    ASSERT_TRUE(provider_->EjectMedia(domain_->key(), "hdc", disc, false).ok());
    ASSERT_TRUE(provider_->InsertMedia(domain_->key(), "hdc", other).ok());
    auto done = Apply(*client, "op-2", digest, {"motd"});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    ASSERT_EQ(done->results.size(), 1u);
    EXPECT_EQ(done->results[0].result, Outcome::kRefused) << Describe(*done);
    EXPECT_NE(done->message.find("not the expected"), std::string::npos) << done->message;
    ASSERT_TRUE(provider_->EjectMedia(domain_->key(), "hdc", other, false).ok());
    ASSERT_TRUE(provider_->InsertMedia(domain_->key(), "hdc", disc).ok());
    EXPECT_EQ(Count(domain_->ConsoleText(), "tampered"), 0);
  }

  {
    SCOPED_TRACE("a failing payload reports its exit code and output tail");
    auto done = Apply(*client, "op-3", digest, {"broken", "restart-agent"});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    ASSERT_EQ(done->results.size(), 2u) << Describe(*done);
    EXPECT_EQ(done->results[0].result, Outcome::kFailed);
    EXPECT_EQ(done->results[0].exit_code, 7);
    EXPECT_EQ(done->results[0].output_tail, "about to fail\non stderr\n");
    EXPECT_EQ(done->results[1].result, Outcome::kSkipped);
    EXPECT_TRUE(done->disc_released);
  }

  {
    SCOPED_TRACE("the ledger survives an agent restart; the same op id does not re-run");
    auto done = Apply(*client, "op-4", digest, {"restart-agent"});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk) << Describe(*done);
    ASSERT_TRUE(domain_->WaitForConsoleLine("gitdisc-guest: agent exited", seconds(60)).ok())
        << domain_->ConsoleText();
    client.reset();
    client = Connect();
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Hello().ok());
    auto ledger = client->Ledger();
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    int motd_ok = 0;
    for (const auto& r : *ledger) {
      if (r.payload == "motd" && r.result == Outcome::kOk && r.op_id == "op-1") ++motd_ok;
    }
    EXPECT_EQ(motd_ok, 1);
    EXPECT_EQ(ledger->size(), 3u);  // motd ok, broken failed, restart-agent ok

    auto again = Apply(*client, "op-1", digest, {"motd"});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->results.at(0).result, Outcome::kOk);
    auto st = client->Status("op-1");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->ops.at(0).state, OpState::kFinished);
    // A new op id for an applied payload runs nothing either.
    auto newer = Apply(*client, "op-5", digest, {"motd"});
    ASSERT_TRUE(newer.ok());
    EXPECT_EQ(newer->results.at(0).op_id, "op-1");
    EXPECT_EQ(Count(domain_->ConsoleText(), "gitdisc-payload: motd"), 1);
  }

  {
    SCOPED_TRACE("the drive was released: a normal (unforced) eject succeeds");
    EXPECT_TRUE(provider_->EjectMedia(domain_->key(), "hdc", disc, false).ok());
  }
}

}  // namespace
}  // namespace gitdisc::guest
