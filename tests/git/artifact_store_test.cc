// file: and url: artifacts: only from configured roots, never through a
// symlink out of one, pinned digests, one download, nothing kept on a
// mismatch, no digest or credential in any message. The url: tests serve
// bytes from a cpp-httplib server on 127.0.0.1: redirects, sizes, a slow
// drip and a stall against the download deadline.
#include "specs/artifact_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

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
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

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
    // No Content-Length: the bound must hold while the bytes stream in.
    server_.Get("/endless", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream",
                                       [this](size_t, httplib::DataSink& sink) {
                                         std::string chunk(4096, 'e');
                                         return !stop_ && sink.write(chunk.data(), chunk.size());
                                       });
    });
    // A byte every 100 ms: every read is quick, the whole never ends in time.
    server_.Get("/drip", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content_provider(1000, "application/octet-stream",
                               [this](size_t offset, size_t, httplib::DataSink& sink) {
                                 for (int i = 0; i < 10 && !stop_; ++i) {
                                   std::this_thread::sleep_for(10ms);
                                 }
                                 return !stop_ && offset < 1000 && sink.write("d", 1);
                               });
    });
    server_.Get("/redirect-same", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/artifacts/tool-1.4.tgz");
    });
    server_.Get("/redirect-https", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("https://127.0.0.1:" + std::to_string(port_) + "/artifacts/tool-1.4.tgz");
    });
    server_.Get("/redirect-loop", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/redirect-loop");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    stop_ = true;
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
  std::atomic<bool> stop_{false};
};

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  if (!PathExists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

ArtifactPolicy Roots(std::vector<std::string> roots, bool allow_http = false) {
  return ArtifactPolicy{std::move(roots), allow_http};
}

ArtifactPolicy HttpAllowed() { return ArtifactPolicy{{}, true}; }

TEST(ArtifactStore, FileSourceFromARootMatchesPinnedDigest) {
  TempDir d;
  gitdisc::testing::WriteText(d / "root/pkg.deb", "deb bytes");
  ArtifactStore store(d / "state", {}, Roots({d / "root"}));
  auto ok = store.Get(FileSource{d / "root/pkg.deb", Sha256Hex("deb bytes")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->path, d / "root/pkg.deb");
  EXPECT_EQ(ok->size, 9u);

  auto bad = store.Get(FileSource{d / "root/pkg.deb", Sha256Hex("other bytes")});
  EXPECT_EQ(bad.status().code(), Status::Code::kCorrupt);
  EXPECT_THAT(bad.status().message(), HasSubstr("does not match the sha256 pinned in the spec"));
  // No digest at all: neither what was read nor what was pinned.
  EXPECT_THAT(bad.status().message(), Not(HasSubstr(Sha256Hex("deb bytes"))));
  EXPECT_THAT(bad.status().message(), Not(HasSubstr(Sha256Hex("other bytes"))));

  // Changed on disk after a successful check: checked again, and refused.
  gitdisc::testing::WriteText(d / "root/pkg.deb", "tampered!");
  EXPECT_EQ(store.Get(FileSource{d / "root/pkg.deb", Sha256Hex("deb bytes")}).status().code(),
            Status::Code::kCorrupt);
  EXPECT_TRUE(store.Get(FileSource{d / "root/missing", Sha256Hex("x")}).status().IsNotFound());
}

TEST(ArtifactStore, WithoutRootsFileArtifactsAreOffAndTheErrorSaysHowToAllowThem) {
  TempDir d;
  gitdisc::testing::WriteText(d / "pkg.deb", "deb bytes");
  ArtifactStore store(d / "state");
  auto r = store.Get(FileSource{d / "pkg.deb", Sha256Hex("deb bytes")});
  EXPECT_EQ(r.status().code(), Status::Code::kPermission);
  EXPECT_THAT(r.status().message(), HasSubstr("artifacts.fileRoots"));
  EXPECT_THAT(r.status().message(), HasSubstr("--artifact-root DIR"));
}

TEST(ArtifactStore, HostFilesOutsideTheRootsAreNeverRead) {
  // The digest oracle: a pusher names /etc/shadow with a guessed digest and
  // reads the answer in the status API. Outside the roots nothing is opened,
  // so no answer depends on the file: the same refusal whether it exists,
  // is readable, or matches.
  TempDir d;
  ASSERT_TRUE(MakeDirs(d / "root").ok());
  ArtifactStore store(d / "state", {}, Roots({d / "root"}));
  std::string messages;
  for (const char* path : {"/etc/shadow", "/etc/passwd", "/nonexistent/x"}) {
    auto r = store.Get(FileSource{path, Sha256Hex("guess")});
    EXPECT_EQ(r.status().code(), Status::Code::kPermission) << path;
    EXPECT_THAT(r.status().message(), HasSubstr("is outside the artifact roots"));
    messages += r.status().message();
  }
  auto passwd = ReadFile("/etc/passwd");
  ASSERT_TRUE(passwd.ok());
  EXPECT_THAT(messages, Not(HasSubstr(Sha256Hex(*passwd))));
  // A root's prefix is not a root: /x/root2 is not under /x/root.
  gitdisc::testing::WriteText(d / "root2/pkg.deb", "x");
  EXPECT_EQ(store.Get(FileSource{d / "root2/pkg.deb", Sha256Hex("x")}).status().code(),
            Status::Code::kPermission);
}

TEST(ArtifactStore, SymlinksMayNotLeadOutOfTheRoot) {
  TempDir d;
  gitdisc::testing::WriteText(d / "root/real.deb", "inside");
  gitdisc::testing::WriteText(d / "outside/secret", "host secret");
  ASSERT_EQ(::symlink((d / "outside/secret").c_str(), (d / "root/escape.deb").c_str()), 0);
  ASSERT_EQ(::symlink("../outside", (d / "root/sub").c_str()), 0);
  ASSERT_EQ(::symlink("real.deb", (d / "root/latest.deb").c_str()), 0);
  ArtifactStore store(d / "state", {}, Roots({d / "root"}));

  auto escape = store.Get(FileSource{d / "root/escape.deb", Sha256Hex("host secret")});
  EXPECT_EQ(escape.status().code(), Status::Code::kPermission);
  EXPECT_THAT(escape.status().message(), HasSubstr("leaves the artifact root"));
  auto through_dir = store.Get(FileSource{d / "root/sub/secret", Sha256Hex("host secret")});
  EXPECT_EQ(through_dir.status().code(), Status::Code::kPermission);
  // A link that stays inside the root is fine.
  auto latest = store.Get(FileSource{d / "root/latest.deb", Sha256Hex("inside")});
  EXPECT_TRUE(latest.ok()) << latest.status().ToString();
}

TEST(ArtifactStore, SpecialFilesAreRefusedWithoutBlocking) {
  TempDir d;
  ASSERT_TRUE(MakeDirs(d / "root").ok());
  ASSERT_EQ(::mkfifo((d / "root/pipe").c_str(), 0600), 0);
  ArtifactStore store(d / "state", {}, Roots({d / "root"}));
  auto r = store.Get(FileSource{d / "root/pipe", Sha256Hex("x")});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(r.status().message(), HasSubstr("not a regular file"));
}

TEST(ArtifactStore, FileOverTheLimitIsRefused) {
  TempDir d;
  gitdisc::testing::WriteText(d / "big", std::string(4096, 'x'));
  ArtifactLimits limits;
  limits.max_bytes = 1024;
  ArtifactStore store(d / "state", limits, Roots({d.path()}));
  auto r = store.Get(FileSource{d / "big", Sha256Hex(std::string(4096, 'x'))});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
}

TEST(ArtifactStore, UrlSourceIsDownloadedOnceAndReused) {
  TempDir d;
  LocalServer server;
  ArtifactStore store(d.path(), {}, HttpAllowed());
  UrlSource src{server.Url("/artifacts/tool-1.4.tgz?token=x"), Sha256Hex("tarball bytes")};
  auto first = store.Get(src);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->path, d / ("artifacts/" + Sha256Hex("tarball bytes")));
  EXPECT_EQ(*ReadFile(first->path), "tarball bytes");
  EXPECT_EQ(server.hits(), 1);
  struct stat st {};
  ASSERT_EQ(::stat((d / "artifacts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "what the fleet installs is private";

  auto second = store.Get(src);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->path, first->path);
  EXPECT_EQ(server.hits(), 1);
  ArtifactStore other_process(d.path(), {}, HttpAllowed());
  ASSERT_TRUE(other_process.Get(src).ok());
  EXPECT_EQ(server.hits(), 1);

  // A damaged stored copy is replaced by a fresh download.
  gitdisc::testing::WriteText(first->path, "rotten");
  ArtifactStore third(d.path(), {}, HttpAllowed());
  ASSERT_TRUE(third.Get(src).ok());
  EXPECT_EQ(server.hits(), 2);
  EXPECT_EQ(*ReadFile(first->path), "tarball bytes");
  EXPECT_EQ(ArtifactFileName(src), "tool-1.4.tgz");
}

TEST(ArtifactStore, UrlDigestMismatchKeepsNothingAndQuotesNoDigest) {
  TempDir d;
  LocalServer server;
  server.set_body("evil bytes");
  ArtifactStore store(d.path(), {}, HttpAllowed());
  auto r = store.Get(UrlSource{server.Url("/artifacts/tool-1.4.tgz"), Sha256Hex("tarball bytes")});
  EXPECT_EQ(r.status().code(), Status::Code::kCorrupt);
  EXPECT_THAT(r.status().message(), HasSubstr("discarded"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(Sha256Hex("evil bytes"))));
  EXPECT_TRUE(FilesIn(d / "artifacts").empty());
}

TEST(ArtifactStore, UrlErrorsAreClear) {
  TempDir d;
  LocalServer server;
  ArtifactLimits limits;
  limits.max_bytes = 1024;
  ArtifactStore store(d.path(), limits, HttpAllowed());
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

TEST(ArtifactStore, SizeIsBoundWhileStreamingWithoutALength) {
  TempDir d;
  LocalServer server;
  ArtifactLimits limits;
  limits.max_bytes = 64 << 10;
  ArtifactStore store(d.path(), limits, HttpAllowed());
  auto r = store.Get(UrlSource{server.Url("/endless"), Sha256Hex("x")});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("more than the limit"));
  EXPECT_TRUE(FilesIn(d / "artifacts").empty());
}

TEST(ArtifactStore, ASlowDripEndsAtTheDownloadDeadline) {
  TempDir d;
  LocalServer server;
  ArtifactLimits limits;
  limits.total_timeout = std::chrono::seconds(1);
  ArtifactStore store(d.path(), limits, HttpAllowed());
  auto start = std::chrono::steady_clock::now();
  auto r = store.Get(UrlSource{server.Url("/drip"), Sha256Hex("x")});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status().code(), Status::Code::kTimeout) << r.status().ToString();
  EXPECT_LT(took, 3s);
  EXPECT_GE(took, 900ms);
  EXPECT_TRUE(FilesIn(d / "artifacts").empty());
}

TEST(ArtifactStore, HttpsOnlyUnlessAllowedAndRedirectsStayInTheirScheme) {
  TempDir d;
  LocalServer server;
  ArtifactStore strict(d.path());
  auto plain = strict.Get(UrlSource{server.Url("/artifacts/tool-1.4.tgz"), Sha256Hex("x")});
  EXPECT_EQ(plain.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(plain.status().message(), HasSubstr("artifacts.allowHttp"));
  EXPECT_EQ(server.hits(), 0) << "refused before connecting";

  ArtifactStore store(d.path(), {}, HttpAllowed());
  auto same = store.Get(UrlSource{server.Url("/redirect-same"), Sha256Hex("tarball bytes")});
  EXPECT_TRUE(same.ok()) << same.status().ToString();
  auto cross = store.Get(UrlSource{server.Url("/redirect-https"), Sha256Hex("other")});
  EXPECT_EQ(cross.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(cross.status().message(), HasSubstr("only redirects within http://"));
  auto loop = store.Get(UrlSource{server.Url("/redirect-loop"), Sha256Hex("other")});
  EXPECT_EQ(loop.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(loop.status().message(), HasSubstr("redirects"));
}

TEST(ArtifactStore, CredentialsInAUrlNeverReachAMessage) {
  TempDir d;
  LocalServer server;
  ArtifactStore store(d.path(), {}, HttpAllowed());
  std::string with_userinfo = server.Url("/nope");
  with_userinfo.insert(7, "deploy:t0ken-s3cret@");
  auto r = store.Get(UrlSource{with_userinfo, Sha256Hex("x")});
  EXPECT_EQ(r.status().code(), Status::Code::kInvalid);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("t0ken-s3cret")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("deploy")));
  auto query = store.Get(UrlSource{server.Url("/nope?access_token=q-s3cret"), Sha256Hex("x")});
  EXPECT_TRUE(query.status().IsNotFound());
  EXPECT_THAT(query.status().message(), Not(HasSubstr("q-s3cret")));
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
