// ChildProcess: a real program run by a test (`git daemon`, `gitdisc serve`)
// in a process group of its own, stdin from /dev/null, stdout and stderr
// appended to a log file; and FreeLoopbackPort for servers that need a port
// chosen up front. Signal and Kill reach the whole group, so helpers the
// program forked go with it. The destructor kills what is still running.
// Used from one thread (Kill may be called from another).
#ifndef GITDISC_TESTS_SUPPORT_CHILD_PROCESS_H_
#define GITDISC_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gitdisc::testing {

// A loopback port that was free a moment ago (a race with other binders is
// possible: callers retry when their server cannot bind).
inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:0: " + std::string(std::strerror(err)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

class ChildProcess {
 public:
  // argv[0] is searched in PATH; env is the complete environment. Throws
  // when the program cannot be started.
  ChildProcess(std::vector<std::string> argv, std::vector<std::string> env, std::string log_path)
      : log_path_(std::move(log_path)) {
    std::vector<char*> args, envp;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);  // a group of its own, led by the child
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
    pid_.store(pid);
  }
  ~ChildProcess() { Kill(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // True while the child has not exited (reaps it when it has).
  bool Running() {
    pid_t pid = pid_.load();
    if (pid <= 0) return false;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return true;
    exit_status_ = status;
    pid_.store(-1);
    return false;
  }
  // Sends `sig` to the child alone (as a service manager would).
  void Signal(int sig) {
    pid_t pid = pid_.load();
    if (pid > 0) ::kill(pid, sig);
  }
  // The exit code once the child exits within `within` (128+N for signal
  // N); nullopt at the deadline.
  std::optional<int> Wait(std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (Running()) {
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exit_status_) return std::nullopt;
    return WIFEXITED(*exit_status_) ? WEXITSTATUS(*exit_status_) : 128 + WTERMSIG(*exit_status_);
  }
  // SIGKILL to the child and every process it started; reaps the child.
  void Kill() {
    pid_t pid = pid_.exchange(-1);
    if (pid <= 0) return;
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exit_status_ = status;
  }
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string log_path_;
  std::atomic<pid_t> pid_{-1};
  std::optional<int> exit_status_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_CHILD_PROCESS_H_
