#include "tests/support/vcsim_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "base/file_util.h"

namespace gitdisc::test_support {

Result<std::unique_ptr<VcsimProcess>> VcsimProcess::Start(VcsimOptions options) {
  if (options.binary.empty() || !PathExists(options.binary)) {
    return Status::NotFound("gitdisc-vcsim not built: '" + options.binary +
                            "' (tests/vsphere/build-vcsim.sh)");
  }
  std::unique_ptr<VcsimProcess> p(new VcsimProcess());
  p->options_ = std::move(options);
  std::string tmpl = "/tmp/gitdisc-vcsim-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return Status::FromErrno("mkdtemp", errno);
  p->dir_ = tmpl;
  GITDISC_RETURN_IF_ERROR(WriteFileAtomic(p->password_file(), p->options_.password + "\n", 0600));

  std::vector<std::string> args = {p->options_.binary,     "-user",
                                   p->options_.user,       "-password-file",
                                   p->password_file(),     "-addr-file",
                                   p->dir_ + "/addr",      "-cert-file",
                                   p->cert_file(),         "-vms",
                                   std::to_string(p->options_.vms)};
  for (const auto& d : p->options_.delays) args.insert(args.end(), {"-delay", d});
  for (const auto& n : p->options_.powered_off) args.insert(args.end(), {"-powered-off", n});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string tmpdir = "TMPDIR=" + p->dir_;
  std::string log = p->log_file();
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::putenv(tmpdir.data());
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  p->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto addr = ReadFile(p->dir_ + "/addr", 256);
    if (addr.ok() && !addr->empty()) {
      p->address_ = addr->substr(0, addr->find('\n'));
      return p;
    }
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      p->pid_ = -1;
      auto text = ReadFile(log, 4096);
      return Status::Unavailable("gitdisc-vcsim exited at start: " + (text.ok() ? *text : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Timeout("gitdisc-vcsim did not listen within 30 s");
}

VcsimProcess::~VcsimProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status;
    while (::waitpid(pid_, &status, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!dir_.empty()) (void)RemoveAll(dir_);
}

std::string VcsimProcess::Uri(const std::string& extra) const {
  return "vsphere://" + options_.user + "@" + address_ + "/DC0?insecure=1&passwordFile=" +
         password_file() + extra;
}

std::string VcsimProcess::VerifiedUri() const {
  return "vsphere://" + options_.user + "@" + address_ + "/DC0?passwordFile=" + password_file() +
         "&caFile=" + cert_file();
}

void VcsimProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void VcsimProcess::Stop() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void VcsimProcess::Continue() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

}  // namespace gitdisc::test_support
