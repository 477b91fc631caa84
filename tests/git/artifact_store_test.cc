// file: and url: artifacts: pinned digests, one download, nothing kept on a
// mismatch. The url: tests serve bytes from a cpp-httplib server on 127.0.0.1.
#include "specs/artifact_store.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "base/file_util.h"
#include "base/sha256.h"
#include "specs/payload_content.h"
#include "tests/git/git_test_util.h"

namespace gitdisc::specs {
namespace {

using gitdisc::testing::TempDir;

class LocalServer {
 public:
  LocalServer() {
    server_.Get("/artifacts/tool-1.4.tgz", [this](const httplib::Request&, httplib::Response& res) {
      ++hits_;
      res.set_content(body_, "application/octet-stream");
    });
    server_.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(64 << 10, 'h'), "application/octet-stream");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void set_body(std::string b) { body_ = std::move(b); }
  int hits() const { return hits_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::string body_ = "tarball bytes";
  std::atomic<int> hits_{0};
};

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  if (!PathExists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

TEST(ArtifactStore, FileSourceMatchesPinnedDigest) {
  TempDir d;
  gitdisc::testing::WriteText(d / "pkg.deb", "deb bytes");
  ArtifactStore store(d / "state");
  auto ok = store.Get(FileSource{d / "pkg.deb", Sha256Hex("deb bytes")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->path, d / "pkg.deb");
  EXPECT_EQ(ok->size, 9u);

  auto bad = store.Get(FileSource{d / "pkg.deb", Sha256Hex("other bytes")});
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(bad.status().message().find("pins"), std::string::npos);

  // Changed on disk after a successful check: checked again, and refused.
  gitdisc::testing::WriteText(d / "pkg.deb", "tampered!");
  EXPECT_EQ(store.Get(FileSource{d / "pkg.deb", Sha256Hex("deb bytes")}).status().code(),
            Status::Code::kCorrupt);
  EXPECT_TRUE(store.Get(FileSource{d / "missing", Sha256Hex("x")}).status().IsNotFound());
}

TEST(ArtifactStore, FileOverTheLimitIsRefused) {
  TempDir d;
  gitdisc::testing::WriteText(d / "big", std::string(4096, 'x'));
  ArtifactLimits limits;
  limits.max_bytes = 1024;
  ArtifactStore store(d / "state", limits);
  auto r = store.Get(FileSource{d / "big", Sha256Hex(std::string(4096, 'x'))});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
}

TEST(ArtifactStore, UrlSourceIsDownloadedOnceAndReused) {
  TempDir d;
  LocalServer server;
  ArtifactStore store(d.path());
  UrlSource src{server.Url("/artifacts/tool-1.4.tgz?token=x"), Sha256Hex("tarball bytes")};
  auto first = store.Get(src);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->path, d / ("artifacts/" + Sha256Hex("tarball bytes")));
  EXPECT_EQ(*ReadFile(first->path), "tarball bytes");
  EXPECT_EQ(server.hits(), 1);

  auto second = store.Get(src);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(server.hits(), 1);
  ArtifactStore other_process(d.path());
  ASSERT_TRUE(other_process.Get(src).ok());
  EXPECT_EQ(server.hits(), 1);

  // A damaged stored copy is replaced by a fresh download.
  gitdisc::testing::WriteText(first->path, "rotten");
  ArtifactStore third(d.path());
  ASSERT_TRUE(third.Get(src).ok());
  EXPECT_EQ(server.hits(), 2);
  EXPECT_EQ(*ReadFile(first->path), "tarball bytes");
  EXPECT_EQ(ArtifactFileName(src), "tool-1.4.tgz");
}

TEST(ArtifactStore, UrlDigestMismatchKeepsNothing) {
  TempDir d;
  LocalServer server;
  server.set_body("evil bytes");
  ArtifactStore store(d.path());
  auto r = store.Get(UrlSource{server.Url("/artifacts/tool-1.4.tgz"), Sha256Hex("tarball bytes")});
  EXPECT_EQ(r.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(r.status().message().find("discarded"), std::string::npos);
  EXPECT_TRUE(FilesIn(d / "artifacts").empty());
}

TEST(ArtifactStore, UrlErrorsAreClear) {
  TempDir d;
  LocalServer server;
  ArtifactLimits limits;
  limits.max_bytes = 1024;
  ArtifactStore store(d.path(), limits);
  auto missing = store.Get(UrlSource{server.Url("/nope"), Sha256Hex("x")});
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  auto huge = store.Get(UrlSource{server.Url("/huge"), Sha256Hex("x")});
  EXPECT_EQ(huge.status().code(), Status::Code::kInvalid) << huge.status().ToString();
  EXPECT_TRUE(FilesIn(d / "artifacts").empty());
  auto unreachable = store.Get(UrlSource{"http://127.0.0.1:1/x.tgz", Sha256Hex("x")});
  EXPECT_EQ(unreachable.status().code(), Status::Code::kUnavailable)
      << unreachable.status().ToString();
  EXPECT_EQ(store.Get(UrlSource{"ftp://h/x", Sha256Hex("x")}).status().code(),
            Status::Code::kInvalid);
}

TEST(ArtifactFileName, UsesTheBasename) {
  EXPECT_EQ(ArtifactFileName(FileSource{"/srv/a/openssl_3.deb", ""}), "openssl_3.deb");
  EXPECT_EQ(ArtifactFileName(UrlSource{"https://h/p/x.tgz#frag", ""}), "x.tgz");
  EXPECT_EQ(ArtifactFileName(UrlSource{"https://h", ""}), "artifact");
  EXPECT_EQ(ArtifactFileName(UrlSource{"https://h/dir/", ""}), "dir");
  EXPECT_EQ(ArtifactFileName(PathSource{"p"}), "");
  PayloadFile f = ArtifactPayloadFile(FileSource{"/x/y.deb", std::string(64, 'a')}, 5);
  EXPECT_EQ(f.path, "y.deb");
  EXPECT_EQ(f.PosixMode(), 0100644u);
  EXPECT_EQ(f.sha256, std::string(64, 'a'));
}

}  // namespace
}  // namespace gitdisc::specs
