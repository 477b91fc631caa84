// The status page in a real browser: headless Chromium (Debian's `chromium`
// package, installed by scripts/install-deps.sh) loads GET / from a running
// server, the rendered DOM must hold the fleet × payload matrix, and a
// screenshot is kept as a test artifact:
//   <build>/tests/daemon/artifacts/status_page.png
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "base/file_util.h"
#include "serve/http_server.h"
#include "tests/support/fake_controller.h"

namespace gitdisc::serve {
namespace {

using ::testing::HasSubstr;

std::string Chromium() {
  for (const char* c : {"chromium", "chromium-browser", "google-chrome"}) {
    if (std::system((std::string("command -v ") + c + " >/dev/null 2>&1").c_str()) == 0) return c;
  }
  return "";
}

// Runs a command, returns its stdout (stderr goes to a log file).
std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = ::pclose(p);
  return out;
}

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    browser_ = Chromium();
    ASSERT_FALSE(browser_.empty())
        << "chromium is not installed; scripts/install-deps.sh installs it";
    char tmpl[] = "/tmp/gitdisc-chromium-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    profile_ = tmpl;
    log_ = std::make_unique<DaemonLog>(&log_out_, LogFormat::kText, &clock_);
    metrics_ = std::make_unique<GitdiscMetrics>(&registry_);
    HttpServerOptions o;
    o.port = 0;
    server_ = std::make_unique<HttpServer>(o, &controller_, &registry_, metrics_.get(), log_.get());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop();
    ASSERT_TRUE(RemoveAll(profile_).ok());
  }

  std::string Browser(const std::string& args, int* rc) {
    std::string cmd = "timeout 180 " + browser_ +
                      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                      " --disable-background-networking --disable-component-update"
                      " --disable-sync --no-first-run --hide-scrollbars"
                      " --user-data-dir=" +
                      profile_ + " " + args +
                      " http://127.0.0.1:" + std::to_string(server_->port()) + "/ 2>" + profile_ +
                      "/stderr.log";
    return RunCommand(cmd, rc);
  }

  std::string browser_;
  std::string profile_;
  SystemClock clock_;
  std::ostringstream log_out_;
  MetricsRegistry registry_;
  std::unique_ptr<GitdiscMetrics> metrics_;
  std::unique_ptr<DaemonLog> log_;
  testing::FakeController controller_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ChromiumTest, RendersTheMatrixAndKeepsAScreenshot) {
  int rc = 0;
  std::string dom = Browser("--dump-dom", &rc);
  ASSERT_EQ(rc, 0) << ReadFile(profile_ + "/stderr.log").value();
  // The browser parsed the page into the matrix we expect.
  EXPECT_THAT(dom, HasSubstr("<table id=\"matrix\">"));
  EXPECT_THAT(dom, HasSubstr("<tr data-vm=\"web-3\">"));
  EXPECT_THAT(dom, HasSubstr("data-payload=\"openssl\" data-state=\"failed\""));
  EXPECT_THAT(dom, HasSubstr("data-payload=\"openssl\" data-state=\"applying\""));
  EXPECT_THAT(dom, HasSubstr("<code id=\"revision\">4f2a9c1e7b3d</code>"));
  // Escaped HTML from a VM message stays text: no <b> element was created.
  EXPECT_THAT(dom, HasSubstr("sets &lt;b&gt;web-baseline&lt;/b&gt; &amp; edge"));

  std::string dir = std::string(GITDISC_BINARY_DIR) + "/tests/daemon/artifacts";
  ASSERT_TRUE(MakeDirs(dir).ok());
  std::string png = dir + "/status_page.png";
  ::unlink(png.c_str());
  Browser("--screenshot=" + png + " --window-size=1280,900", &rc);
  ASSERT_EQ(rc, 0) << ReadFile(profile_ + "/stderr.log").value();
  auto image = ReadFile(png);
  ASSERT_TRUE(image.ok()) << "no screenshot at " << png;
  ASSERT_GT(image->size(), 10000u);  // a blank page compresses to far less
  EXPECT_EQ(image->substr(1, 3), "PNG");
  std::cout << "screenshot: " << png << "\n";
}

}  // namespace
}  // namespace gitdisc::serve
