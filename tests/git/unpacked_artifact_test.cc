// `unpack: true` end to end against real components: a tarball made with
// tar(1), served over HTTP on 127.0.0.1 by cpp-httplib (url: artifacts are
// https-only unless allowed; the test allows http as --allow-http-artifacts
// does), a real Git repository, the real Source, bundle builder, ISO writer
// and cache; the disc read back with the ISO reader (the extracted
// install.sh at P/<payload>/, mode 0755, no archive), then the REAL agent
// (tests/support FakeFleet, fake provider) running ./install.sh from it
// through the real controller.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/file_util.h"
#include "base/sha256.h"
#include "iso/bundle.h"
#include "iso/iso_cache.h"
#include "iso/iso_reader.h"
#include "iso/manifest.h"
#include "reconciler/bundle_builder.h"
#include "reconciler/controller.h"
#include "specs/source.h"
#include "tests/git/git_test_util.h"
#include "tests/support/fake_fleet.h"

namespace gitdisc {
namespace {

using gitdisc::testing::Git;
using gitdisc::testing::ShellQuote;
using gitdisc::testing::TempDir;
using gitdisc::testing::WriteText;

class ArchiveServer {
 public:
  explicit ArchiveServer(std::string body) : body_(std::move(body)) {
    server_.Get("/dl/plugin-1.4.tgz", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content(body_, "application/gzip");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ArchiveServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/dl/plugin-1.4.tgz";
  }
  int hits() const { return hits_; }

 private:
  std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> hits_{0};
};

class UnpackedArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = dir_ / "applied.log";
    // The archive: install.sh (executable) reads a file beside it, so it
    // only works when run from the extracted tree.
    WriteText(dir_ / "src/install.sh",
              "#!/bin/sh\nset -e\necho \"plugin $(cat lib/version.txt)\" >> " + log_ + "\n", 0755);
    ::chmod((dir_ / "src/install.sh").c_str(), 0755);
    WriteText(dir_ / "src/lib/version.txt", "1.4\n");
    std::string cmd = "tar -C " + ShellQuote(dir_ / "src") + " -czf " +
                      ShellQuote(dir_ / "plugin.tgz") + " .";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    archive_ = *ReadFile(dir_ / "plugin.tgz");
    server_ = std::make_unique<ArchiveServer>(archive_);

    repo_ = dir_ / "repo";
    gitdisc::testing::WriteText(repo_ + "/web.yaml",
              "apiVersion: gitdisc/v1\nkind: PayloadSet\nmetadata: {name: web}\nspec:\n"
              "  selector: {matchLabels: {role: web}}\n  payloads:\n"
              "    - name: plugin\n      version: \"1.4\"\n"
              "      url: {url: \"" + server_->Url() + "\", sha256: \"" + Sha256Hex(archive_) +
              "\"}\n      unpack: true\n      run: [\"./install.sh\"]\n      timeout: 1m\n");
    Git(repo_, "init -q");
    Git(repo_, "add -A");
    Git(repo_, "commit -q -m init");
  }

  std::unique_ptr<specs::Source> OpenSource() {
    specs::SourceOptions so;
    so.repo = repo_;
    so.state_dir = dir_ / "state";
    so.artifact_policy.allow_http = true;
    auto src = specs::Source::Open(git_, so);
    EXPECT_TRUE(src.ok()) << src.status().ToString();
    return src.ok() ? std::move(src).value() : nullptr;
  }

  TempDir dir_;
  std::string log_, repo_, archive_;
  std::unique_ptr<ArchiveServer> server_;
  specs::GitLibrary git_;
};

TEST_F(UnpackedArtifactTest, TheDiscHoldsTheExtractedTreeAtThePayloadFolder) {
  auto source = OpenSource();
  ASSERT_TRUE(source);
  auto snap = source->Load("");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_TRUE((*snap)->valid());
  const specs::Payload& p = (*snap)->load().sets.at(0).payloads.at(0);
  auto digest = (*snap)->Digest(p);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(server_->hits(), 1) << "the identity of an unpacked payload needs the archive";

  auto cache = iso::IsoCache::Open({.dir = dir_ / "state/isos"});
  ASSERT_TRUE(cache.ok());
  std::vector<specs::DesiredPayload> payloads = {{p.name, *digest, p, {"web"}}};
  const std::string bundle = iso::ComputeBundleDigest({*digest});
  auto image = reconciler::EnsureImage(**cache, *snap, bundle, payloads, "test");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(server_->hits(), 1) << "downloaded once";

  auto reader = iso::IsoReader::Open(image->path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const iso::IsoEntry* script = (*reader)->Find("P/plugin/install.sh");
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->type, iso::IsoEntry::Type::kFile);
  EXPECT_EQ(script->mode, 0100755u);
  EXPECT_EQ(*(*reader)->ReadFileToString("P/plugin/install.sh", 1 << 20),
            *ReadFile(dir_ / "src/install.sh"));
  const iso::IsoEntry* data = (*reader)->Find("P/plugin/lib/version.txt");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->mode, 0100644u);
  EXPECT_EQ((*reader)->Find("P/plugin/plugin-1.4.tgz"), nullptr) << "the archive is not delivered";
  auto report = (*reader)->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  // The agent's check: the manifest entry's digest covers these very files.
  auto manifest = (*reader)->ReadManifest();
  ASSERT_TRUE(manifest.ok());
  const iso::ManifestPayload* mp = manifest->FindPayload("plugin");
  ASSERT_NE(mp, nullptr);
  EXPECT_EQ(mp->digest, *digest);
  EXPECT_EQ(iso::RecomputePayloadDigest(*mp), *digest);

  // Another process plans and builds again: no download, no extraction (the
  // kept tree is the same folder, untouched).
  const std::string kept = dir_ / "state/artifacts/" + Sha256Hex(archive_) + ".unpacked";
  struct stat before {};
  ASSERT_EQ(::stat((kept + "/files.json").c_str(), &before), 0);
  ASSERT_TRUE(RemoveAll(dir_ / "state/isos").ok());
  auto again_source = OpenSource();
  auto again = again_source->Load("");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Digest(p), *digest);
  auto cache2 = iso::IsoCache::Open({.dir = dir_ / "state/isos"});
  ASSERT_TRUE(cache2.ok());
  auto rebuilt = reconciler::EnsureImage(**cache2, *again, bundle, payloads, "test");
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(*ReadFile(rebuilt->path), *ReadFile(image->path)) << "deterministic image";
  struct stat after {};
  ASSERT_EQ(::stat((kept + "/files.json").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(server_->hits(), 1);
}

TEST_F(UnpackedArtifactTest, TheRealAgentRunsInstallShFromTheExtractedTree) {
  auto source = OpenSource();
  ASSERT_TRUE(source);
  auto cache = iso::IsoCache::Open({.dir = dir_ / "state/isos"});
  ASSERT_TRUE(cache.ok());
  testing::FakeFleet fleet(testing::FakeFleet::Options{.state_dir = dir_ / "agent"});
  fleet.provider().AddVm({.name = "web-1", .labels = {{"role", "web"}}});
  SystemClock clock;
  reconciler::ControllerOptions opts;
  opts.agent.request_timeout = std::chrono::milliseconds(2000);
  opts.exec.eject_retry_delay = std::chrono::milliseconds(10);
  opts.idle_poll = std::chrono::milliseconds(10);
  {
    reconciler::Controller controller(&fleet.provider(), source.get(), cache->get(), &clock, opts);
    auto pass =
        controller.RunUntilConverged(std::chrono::steady_clock::now() + std::chrono::minutes(2));
    ASSERT_TRUE(pass.ok()) << pass.status().ToString();
    EXPECT_TRUE(pass->converged);
  }
  EXPECT_EQ(*ReadFile(log_), "plugin 1.4\n");
  EXPECT_EQ(server_->hits(), 1);
}

}  // namespace
}  // namespace gitdisc
