// The agent in a real guest: boots the test guest (tests/guest/build-guest.sh:
// Debian kernel + busybox initramfs + static gitdisc-agent) under QEMU/TCG
// through libvirt, talks to the agent over org.gitdisc.agent.0 via
// virDomainOpenChannel (LibvirtProvider::OpenAgentChannel), inserts bundle
// ISOs written by iso/ with LibvirtProvider::InsertMedia, and checks what the
// agent does. Each test boots one VM and runs its whole sequence on it (TCG
// boots are slow): the first the protocol and ledger, the second the discs an
// attacker would make (tests/support/disc_forgery.h).
//
// Needs root, libvirtd (started by EnsureLibvirtd) and QEMU: CTest label `vm`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <functional>
#include <string>

#include "base/file_util.h"
#include "base/sha256.h"
#include "guest/agent_client.h"
#include "guest/test_bundle.h"
#include "iso/bundle.h"
#include "providers/libvirt_provider.h"
#include "tests/support/disc_forgery.h"
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

  // Boots the test guest with `cdroms` drives (hdc, hdd) and waits for its agent.
  void Boot(int cdroms) {
    ASSERT_TRUE(test_support::EnsureLibvirtd().ok());
    (void)test_support::ReapLeftoverTestDomains();
    std::string guest = GITDISC_GUEST_DIR;
    ASSERT_TRUE(PathExists(guest + "/vmlinuz")) << "build the guest-image target first";
    test_support::TestDomainOptions opts;
    opts.name_hint = "agent";
    opts.kernel = guest + "/vmlinuz";
    opts.initrd = guest + "/initrd.img";
    opts.cmdline_extra = "quiet panic=-1";
    opts.cdrom_count = cdroms;
    auto domain = test_support::TestDomain::Create(opts);
    ASSERT_TRUE(domain.ok()) << domain.status().ToString();
    domain_ = std::move(*domain);
    auto provider = LibvirtProvider::Open({domain_->uri()});
    ASSERT_TRUE(provider.ok()) << provider.status().ToString();
    provider_ = std::move(*provider);
    Status up = domain_->WaitForConsoleLine("gitdisc-agent: listening on", milliseconds(150'000));
    ASSERT_TRUE(up.ok()) << up.ToString();
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

  // `on_progress` runs on this thread as each progress event arrives.
  Result<DoneEvent> Apply(AgentClient& c, const std::string& op, const std::string& digest,
                          const std::vector<std::string>& names,
                          std::vector<ProgressEvent>* progress = nullptr,
                          const std::function<void(const ProgressEvent&)>& on_progress = {}) {
    auto acc = c.Apply(op, digest, names);
    if (!acc.ok()) return acc.status();
    return c.WaitForDone(op, std::chrono::steady_clock::now() + std::chrono::minutes(2),
                         [&](const AgentMessage& m) {
                           auto* p = std::get_if<ProgressEvent>(&m);
                           if (!p) return;
                           if (progress) progress->push_back(*p);
                           if (on_progress) on_progress(*p);
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
  ASSERT_NO_FATAL_FAILURE(Boot(1));

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
    // It ran in its verified copy, kept by digest under the state dir.
    EXPECT_EQ(done->results[0].output_tail, "hello from /var/lib/gitdisc-agent/payloads/motd/" +
                                                done->results[0].digest + "/files\n");
    EXPECT_TRUE(done->disc_released);
    std::string phases;
    for (const auto& p : progress) {
      if (phases.empty() || phases.substr(phases.rfind(' ') + 1) != p.phase)
        phases += " " + p.phase;
    }
    EXPECT_EQ(phases, " disc verify copy release run");
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

// What the agent runs is what it hashed, whatever an attacker does with the
// discs: a disc swapped for a twin after the agent verified it, a forged disc
// with the same volume ID in the other drive, a disc whose Joliet tree hides
// other bytes under the same names (and which Linux would mount as Joliet),
// and a Joliet-only disc. The guest's own kernel shows each trick took.
TEST_F(RealGuest, RunsOnlyWhatItVerified) {
  ASSERT_NO_FATAL_FAILURE(Boot(2));
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Hello().ok());
  const std::string key = domain_->key();

  {
    SCOPED_TRACE("(b) a forged disc with the same volume ID in the first drive is never used");
    std::string digest, forged_digest;
    std::string genuine = WriteDisc(
        "genuine.iso",
        {ScriptPayload("motd",
                       "echo \"gitdisc-payload: motd $(cat data/readme.txt)\" > /dev/console\n")},
        &digest);
    std::string forged =
        WriteDisc("forged.iso", {ScriptPayload("motd", "echo gitdisc-forged-ran > /dev/console\n")},
                  &forged_digest);
    ASSERT_TRUE(test_support::PatchVolumeId(forged, iso::VolumeIdForDigest(digest)).ok());
    ASSERT_TRUE(provider_->InsertMedia(key, "hdc", forged).ok());   // /dev/sr0
    ASSERT_TRUE(provider_->InsertMedia(key, "hdd", genuine).ok());  // /dev/sr1
    std::vector<ProgressEvent> progress;
    auto done = Apply(*client, "op-b", digest, {"motd"}, &progress);
    ASSERT_TRUE(done.ok()) << done.status().ToString() << "\n" << domain_->ConsoleText();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk) << Describe(*done);
    bool used_sr1 = false;
    for (const auto& p : progress)
      used_sr1 |= p.phase == "release" && p.message.find("/dev/sr1") != std::string::npos;
    EXPECT_TRUE(used_sr1);
    ASSERT_TRUE(
        domain_->WaitForConsoleLine("gitdisc-payload: motd payload motd", seconds(30)).ok());
    EXPECT_EQ(Count(domain_->ConsoleText(), "gitdisc-forged-ran"), 0);
    EXPECT_TRUE(provider_->EjectMedia(key, "hdc", forged, false).ok());
    EXPECT_TRUE(provider_->EjectMedia(key, "hdd", genuine, false).ok());
  }

  {
    SCOPED_TRACE("(a) the disc swapped for a tampered twin right after the agent verified it");
    // The payload waits until the guest's kernel sees the twin in the
    // drive, then shows what it runs with and what the drive now holds.
    std::string digest;
    std::string genuine =
        WriteDisc("swap.iso",
                  {ScriptPayload("swap",
                                 // Opening the drive locks its tray: leave
                                 // it alone until the host has swapped.
                                 "sleep 8\n"
                                 "mkdir -p /tmp/m\n"
                                 "for i in $(seq 120); do\n"
                                 "  if mount -r -t iso9660 /dev/sr0 /tmp/m 2>/dev/null; then\n"
                                 "    grep -q EVIL /tmp/m/P/swap/data/readme.txt && break\n"
                                 "    umount /tmp/m\n"
                                 "  fi\n"
                                 "  usleep 250000\n"
                                 "done\n"
                                 "echo \"gitdisc-swap: ran=$(cat data/readme.txt) "
                                 "drive=$(cat /tmp/m/P/swap/data/readme.txt)\" > /dev/console\n"
                                 "umount /tmp/m\n")},
                  &digest);
    std::string twin = domain_->work_dir() + "/swap-twin.iso";
    ASSERT_TRUE(WriteFileAtomic(twin, *ReadFile(genuine), 0644).ok());
    ASSERT_TRUE(test_support::ReplaceUniqueBytes(twin, "payload swap\n", "EVILOAD swap\n").ok());
    ASSERT_TRUE(provider_->InsertMedia(key, "hdc", genuine).ok());
    Status swapped = Status::Internal("the agent never reported the drive released");
    auto done = Apply(*client, "op-a", digest, {"swap"}, nullptr, [&](const ProgressEvent& p) {
      if (p.phase != "release") return;
      // Unforced: the agent has already let go of the drive.
      swapped = provider_->EjectMedia(key, "hdc", genuine, false);
      if (swapped.ok()) swapped = provider_->InsertMedia(key, "hdc", twin);
    });
    ASSERT_TRUE(done.ok()) << done.status().ToString() << "\n" << domain_->ConsoleText();
    EXPECT_TRUE(swapped.ok()) << swapped.ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk) << Describe(*done);
    ASSERT_TRUE(domain_->WaitForConsoleLine("gitdisc-swap:", seconds(30)).ok());
    EXPECT_EQ(Count(domain_->ConsoleText(), "gitdisc-swap: ran=payload swap drive=EVILOAD swap"), 1)
        << domain_->ConsoleText();
    EXPECT_TRUE(provider_->EjectMedia(key, "hdc", twin, false).ok());
  }

  {
    SCOPED_TRACE("(c) a Joliet tree that differs from Rock Ridge, which Linux would mount");
    iso::BundlePayload p = ScriptPayload(
        "jr",
        "mkdir -p /tmp/m && mount -r -t iso9660 /dev/sr0 /tmp/m && "
        "echo \"gitdisc-jr-kernel: $(sha256sum /tmp/m/P/jr/install.sh | cut -c1-64)\" "
        "> /dev/console; umount /tmp/m\n"
        "echo gitdisc-jr-ran: rockridge > /dev/console\n");
    const std::string alt = "#!/bin/sh\necho gitdisc-jr-ran: joliet > /dev/console\n";
    p.files.push_back(testing::MemFile("alt.sh", alt, 0755));
    std::string digest;
    std::string disc = WriteDisc("jr.iso", {p}, &digest);
    ASSERT_TRUE(test_support::PointJolietFileAt(disc, "install.sh", "P/jr/alt.sh").ok());
    ASSERT_TRUE(test_support::HideRockRidgeFromLinux(disc).ok());
    ASSERT_TRUE(provider_->InsertMedia(key, "hdc", disc).ok());
    auto done = Apply(*client, "op-c", digest, {"jr"});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kOk) << Describe(*done);
    ASSERT_TRUE(domain_->WaitForConsoleLine("gitdisc-jr-ran:", seconds(30)).ok());
    std::string console = domain_->ConsoleText();
    // The kernel mounts the Joliet tree: install.sh is the other script there.
    EXPECT_EQ(Count(console, "gitdisc-jr-kernel: " + Sha256Hex(alt)), 1) << console;
    EXPECT_EQ(Count(console, "gitdisc-jr-ran: rockridge"), 1);
    EXPECT_EQ(Count(console, "gitdisc-jr-ran: joliet"), 0);
    EXPECT_TRUE(provider_->EjectMedia(key, "hdc", disc, false).ok());
  }

  {
    SCOPED_TRACE("(c) a Joliet-only disc is refused with the reason");
    std::string digest;
    std::string disc = WriteDisc(
        "plain.iso", {ScriptPayload("plain", "echo gitdisc-plain-ran > /dev/console\n")}, &digest);
    std::string joliet = domain_->work_dir() + "/joliet.iso";
    ASSERT_TRUE(test_support::WriteJolietOnlyCopy(disc, joliet, domain_->work_dir()).ok());
    ::chmod(joliet.c_str(), 0644);
    ASSERT_TRUE(provider_->InsertMedia(key, "hdc", joliet).ok());
    auto done = Apply(*client, "op-j", digest, {"plain"});
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->results.at(0).result, Outcome::kRefused) << Describe(*done);
    EXPECT_NE(done->message.find("does not match its manifest"), std::string::npos)
        << done->message;
    EXPECT_TRUE(done->disc_released);
    EXPECT_EQ(Count(domain_->ConsoleText(), "gitdisc-plain-ran"), 0);
    EXPECT_TRUE(provider_->EjectMedia(key, "hdc", joliet, false).ok());
  }
  // The evidence, for whoever reads the log.
  std::string console = domain_->ConsoleText();
  for (size_t at = 0, end; at < console.size(); at = end + 1) {
    end = console.find('\n', at);
    if (end == std::string::npos) end = console.size();
    std::string line = console.substr(at, end - at);
    if (line.rfind("gitdisc-", 0) == 0 && line.rfind("gitdisc-agent", 0) != 0 &&
        line.rfind("gitdisc-guest", 0) != 0) {
      std::printf("guest console: %s\n", line.c_str());
    }
  }
}

}  // namespace
}  // namespace gitdisc::guest
