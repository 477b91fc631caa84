#include "guest/payload_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

namespace gitdisc::guest {
namespace {

using Clock = std::chrono::steady_clock;

class Tail {
 public:
  explicit Tail(size_t max) : max_(max) {}
  void Add(const char* p, size_t n) {
    total_ += n;
    buf_.append(p, n);
    if (buf_.size() > 2 * max_ + 65536) buf_.erase(0, buf_.size() - max_);
  }
  std::string Take() {
    if (buf_.size() > max_) buf_.erase(0, buf_.size() - max_);
    return std::move(buf_);
  }
  uint64_t total() const { return total_; }

 private:
  size_t max_;
  std::string buf_;
  uint64_t total_ = 0;
};

std::optional<std::string> EnvValue(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      return kv.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

// Resolves argv[0] the way execvp would, but with the payload's PATH, before
// fork (the child may only make async-signal-safe calls).
std::string ResolveProgram(const std::string& prog, const std::vector<std::string>& env) {
  if (prog.find('/') != std::string::npos) return prog;
  std::string path = EnvValue(env, "PATH").value_or("/usr/sbin:/usr/bin:/sbin:/bin");
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!dir.empty()) {
      std::string cand = dir + "/" + prog;
      struct stat st;
      if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(cand.c_str(), X_OK) == 0) {
        return cand;
      }
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return prog;  // execve fails with ENOENT, reported as kStartFailed
}

void ReadAvailable(int fd, Tail& tail, bool* eof) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      tail.Add(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) *eof = true;
    if (n < 0 && errno == EINTR) continue;
    return;  // EAGAIN or error
  }
}

int ExitCodeOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

}  // namespace

Result<RunOutcome> RunPayloadProcess(const RunSpec& spec) {
  if (spec.argv.empty()) return Status::Invalid("run: empty argv");
  std::string program = ResolveProgram(spec.argv[0], spec.env);
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  int err[2];  // the child reports a failed chdir/exec here; closes on exec
  if (::pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return Status::FromErrno("pipe", e);
  }

  const pid_t agent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return Status::FromErrno("fork", e);
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::setpgid(0, 0);
    // An agent that dies takes its payload with it: the operation is then
    // recorded as interrupted (failed), and only a retry — under a new op
    // id — runs it to the end, instead of an orphan finishing unobserved.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != agent) ::_exit(127);  // it died before the prctl
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    int stage = 0;
    if (::chdir(spec.cwd.c_str()) == 0) {
      stage = 1;
      // ETXTBSY: the file is open for writing somewhere. A process forked
      // by another thread while our extraction had it open holds that fd
      // until its own exec; wait for that briefly (up to 2 s) rather than
      // fail the payload. A writer that never closes still fails it.
      for (int tries = 0;; ++tries) {
        ::execve(program.c_str(), argv.data(), envp.data());
        if (errno != ETXTBSY || tries >= 400) break;
        struct timespec pause = {0, 5 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
      }
    }
    int report[2] = {stage, errno};
    ssize_t ignored = ::write(err[1], report, sizeof report);
    (void)ignored;
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before any kill
  ::close(out[1]);
  ::close(err[1]);

  RunOutcome outcome;
  Tail tail(spec.tail_bytes);
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(err[0], report, sizeof report);
  } while (got < 0 && errno == EINTR);
  ::close(err[0]);
  if (got == static_cast<ssize_t>(sizeof report)) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::close(out[0]);
    outcome.kind = RunOutcome::Kind::kStartFailed;
    outcome.output_tail =
        std::string(report[0] == 0 ? "cannot enter " + spec.cwd : "cannot execute " + program) +
        ": " + std::strerror(report[1]) + "\n";
    return outcome;
  }

  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  auto deadline = Clock::now() + spec.timeout;
  bool kill_pending = false;
  Clock::time_point kill_at{};
  bool timed_out = false;
  bool eof = false;
  int wstatus = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
    if (w == pid) break;
    auto now = Clock::now();
    if (!timed_out && now >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + spec.kill_grace;
      kill_pending = true;
    }
    if (kill_pending && now >= kill_at) {
      ::kill(-pid, SIGKILL);
      kill_pending = false;
    }
    if (eof) {
      ::usleep(20'000);  // output closed but the process lives on
      continue;
    }
    struct pollfd p = {out[0], POLLIN, 0};
    ::poll(&p, 1, 50);
    ReadAvailable(out[0], tail, &eof);
  }
  // The main process is gone: nothing else of its group may outlive it.
  ::kill(-pid, SIGKILL);
  // Drain what is buffered; stop at EOF or when the pipe stays quiet (a
  // process that escaped the group may hold it open).
  while (!eof) {
    struct pollfd p = {out[0], POLLIN, 0};
    int rc = ::poll(&p, 1, 200);
    if (rc <= 0) break;
    ReadAvailable(out[0], tail, &eof);
  }
  ::close(out[0]);

  outcome.exit_code = ExitCodeOf(wstatus);
  if (timed_out) {
    outcome.kind = RunOutcome::Kind::kTimedOut;
  } else if (WIFSIGNALED(wstatus)) {
    outcome.kind = RunOutcome::Kind::kSignaled;
  } else {
    outcome.kind = RunOutcome::Kind::kExited;
  }
  outcome.output_bytes = tail.total();
  outcome.output_tail = tail.Take();
  return outcome;
}

}  // namespace gitdisc::guest
