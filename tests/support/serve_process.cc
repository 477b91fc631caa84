#include "tests/support/serve_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "base/sha256.h"
#include "base/unique_fd.h"

namespace gitdisc::test_support {
namespace {

Status Shell(const std::string& command) {
  int rc = std::system(command.c_str());
  if (rc != 0) return Status::Internal("`" + command + "` failed with " + std::to_string(rc));
  return Status::Ok();
}

int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return 0;
  }
  return ntohs(a.sin_port);
}

Status MakeRepo(const std::string& repo) {
  GITDISC_RETURN_IF_ERROR(MakeDirs(repo + "/p"));
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(repo + "/fleet.yaml",
                                          "apiVersion: gitdisc/v1\n"
                                          "kind: PayloadSet\n"
                                          "metadata: {name: nobody}\n"
                                          "spec:\n"
                                          "  selector: {names: [\"no-such-vm-*\"]}\n"
                                          "  payloads:\n"
                                          "    - {name: p, version: \"1\", path: p, run: "
                                          "[\"./install.sh\"]}\n"));
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(repo + "/p/install.sh", "#!/bin/sh\necho hi\n", 0755));
  return Shell("cd '" + repo +
               "' && git init -q -b main . && git add -A && git -c user.email=t@e -c "
               "user.name=t commit -qm one");
}

std::string Signature(const std::string& body) {
  Sha256Bytes mac = HmacSha256(ServeProcess::kWebhookSecret, body);
  return HexEncode(mac.data(), mac.size());
}

}  // namespace

Result<std::unique_ptr<ServeProcess>> ServeProcess::Start(const std::string& binary,
                                                          std::chrono::milliseconds ready_within) {
  std::unique_ptr<ServeProcess> p(new ServeProcess());
  const std::string& w = p->work_.path();
  GITDISC_RETURN_IF_ERROR(MakeRepo(w + "/repo"));
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(w + "/generic.secret", kWebhookSecret, 0600));
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(w + "/api.token", kApiToken, 0600));
  p->port_ = FreePort();
  if (p->port_ == 0) return Status::Unavailable("no free port");
  std::string config = w + "/serve.yaml";
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(
      config, "source: {repo: " + w + "/repo, branch: main, interval: 1h}\n" +
                  "connections: [\"test:///default\"]\n" + "stateDir: " + w + "/state\n" +
                  "listen: 127.0.0.1:" + std::to_string(p->port_) + "\n" +
                  "webhooks: {generic: {secretFile: " + w + "/generic.secret}}\n" +
                  "api: {tokenFile: " + w + "/api.token}\n"));
  p->log_ = w + "/serve.log";
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    int fd = ::open(p->log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<std::string> argv = {binary, "serve", "--config", config, "--log-format",
                                     "json", "--shutdown-grace", "5"};
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  p->pid_ = pid;
  auto end = std::chrono::steady_clock::now() + ready_within;
  httplib::Client c("127.0.0.1", p->port_);
  c.set_connection_timeout(1, 0);
  while (std::chrono::steady_clock::now() < end) {
    auto r = c.Get("/readyz");
    if (r && r->status == 200) return p;
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      p->pid_ = -1;
      return Status::Unavailable("gitdisc serve exited at start; see " + p->log_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Timeout("gitdisc serve not ready; see " + p->log_);
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

ProcMemory ServeProcess::Memory() const {
  ProcMemory m;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string key;
  uint64_t kb = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    if (!(ls >> key >> kb)) continue;
    if (key == "VmRSS:") m.rss_bytes = kb * 1024;
    if (key == "VmHWM:") m.hwm_bytes = kb * 1024;
  }
  return m;
}

std::string ServeProcess::Metrics() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(5, 0);
  auto r = c.Get("/metrics");
  return r && r->status == 200 ? r->body : std::string();
}

double ServeProcess::ScansFinished() const {
  static constexpr std::string_view kSeries = "\ngitdisc_reconcile_duration_seconds_count ";
  std::string m = Metrics();
  size_t at = m.find(kSeries);
  if (at == std::string::npos) return -1;
  return std::strtod(m.c_str() + at + kSeries.size(), nullptr);
}

int ServeProcess::SignedWebhook(const std::string& delivery_id) const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(5, 0);
  std::string body = R"({"ref":"refs/heads/main"})";
  httplib::Headers h = {{"X-Signature", "sha256=" + Signature(body)},
                        {"X-Delivery-Id", delivery_id}};
  auto r = c.Post("/hooks/generic", h, body, "application/json");
  return r ? r->status : 0;
}

int ServeProcess::Terminate(std::chrono::milliseconds within) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

}  // namespace gitdisc::test_support
