#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "base/unique_fd.h"

namespace gitdisc {
namespace {

using SteadyClock = std::chrono::steady_clock;

Result<UniqueFd> StdinFrom(const std::string& data) {
  UniqueFd fd(::memfd_create("gitdisc-stdin", MFD_CLOEXEC));
  if (!fd) return Status::FromErrno("memfd_create", errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("write stdin of a helper", errno);
    done += static_cast<size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Status::FromErrno("lseek", errno);
  return fd;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe2", errno);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn attributes and file actions, destroyed on every exit path.
class SpawnSetup {
 public:
  SpawnSetup() {
    ::posix_spawnattr_init(&attr_);
    ::posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attr_);
    ::posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Own process group (so a deadline kills helpers the helper started),
  // default signal dispositions and an empty mask, only fds 0-2 open.
  void Prepare(int in, int out, int err) {
    ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF);
    ::posix_spawnattr_setpgroup(&attr_, 0);
    sigset_t none;
    ::sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr_, &none);
    sigset_t all;
    ::sigfillset(&all);
    ::posix_spawnattr_setsigdefault(&attr_, &all);
    ::posix_spawn_file_actions_adddup2(&actions_, in, 0);
    ::posix_spawn_file_actions_adddup2(&actions_, out, 1);
    ::posix_spawn_file_actions_adddup2(&actions_, err, 2);
    ::posix_spawn_file_actions_addclosefrom_np(&actions_, 3);
  }
  const posix_spawnattr_t* attr() const { return &attr_; }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

// Reads what is ready on one stream; false at end of stream.
bool Drain(int fd, std::string* into, size_t max, bool* truncated) {
  std::array<char, 8192> buf;
  ssize_t n = ::read(fd, buf.data(), buf.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  size_t keep = into->size() < max ? std::min(max - into->size(), static_cast<size_t>(n)) : 0;
  into->append(buf.data(), keep);
  if (keep < static_cast<size_t>(n)) *truncated = true;
  return true;
}

int ExitCodeOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

// Collects stdout/stderr until both close or the deadline passes.
void Collect(int out, int err, SteadyClock::time_point deadline, size_t max,
             SubprocessResult* r) {
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      SteadyClock::now());
    if (left.count() <= 0) {
      r->timed_out = true;
      return;
    }
    std::array<struct pollfd, 2> p = {{{out_open ? out : -1, POLLIN, 0},
                                       {err_open ? err : -1, POLLIN, 0}}};
    int rc = ::poll(p.data(), p.size(), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc < 0 && errno != EINTR) return;
    if (rc <= 0) continue;
    if (out_open && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      out_open = Drain(out, &r->out, max, &r->truncated);
    }
    if (err_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      err_open = Drain(err, &r->err, max, &r->truncated);
    }
  }
}

// Waits for the child; past the deadline kills its whole group first.
void Reap(pid_t pid, SteadyClock::time_point deadline, SubprocessResult* r) {
  int wstatus = 0;
  while (!r->timed_out) {
    pid_t got = ::waitpid(pid, &wstatus, WNOHANG);
    if (got == pid) {
      r->exit_code = ExitCodeOf(wstatus);
      ::kill(-pid, SIGKILL);  // anything it left in its group
      return;
    }
    if (got < 0 && errno != EINTR) return;
    if (SteadyClock::now() >= deadline) r->timed_out = true;
    if (!r->timed_out) ::usleep(2000);
  }
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  r->exit_code = ExitCodeOf(wstatus);
}

}  // namespace

Result<SubprocessResult> RunSubprocess(const SubprocessSpec& spec) {
  if (spec.argv.empty()) return Status::Invalid("no program to run");
  GITDISC_ASSIGN_OR_RETURN(UniqueFd in, StdinFrom(spec.stdin_data));
  GITDISC_ASSIGN_OR_RETURN(Pipe out, MakePipe());
  GITDISC_ASSIGN_OR_RETURN(Pipe err, MakePipe());

  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  SpawnSetup setup;
  setup.Prepare(in.get(), out.write.get(), err.write.get());
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], setup.actions(), setup.attr(), argv.data(), envp.data());
  if (rc != 0) return Status::FromErrno("run " + spec.argv[0], rc);
  in.Reset();
  out.write.Reset();
  err.write.Reset();

  SubprocessResult r;
  auto deadline = SteadyClock::now() + spec.timeout;
  Collect(out.read.get(), err.read.get(), deadline, spec.max_output, &r);
  Reap(pid, deadline, &r);
  return r;
}

}  // namespace gitdisc
