#include "specs/git_repository.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "base/file_util.h"
#include "base/url_text.h"
#include "base/sha256.h"
#include "specs/git_internal.h"
#include "specs/git_repository_impl.h"
#include "specs/git_tree_impl.h"

namespace gitdisc::specs {

using git_internal::GitBuf;
using git_internal::GitCommitPtr;
using git_internal::GitError;
using git_internal::GitObjectPtr;
using git_internal::GitOdbPtr;
using git_internal::GitReferencePtr;
using git_internal::GitRefIteratorPtr;
using git_internal::GitRemotePtr;
using git_internal::GitRepoHandle;
using git_internal::GitRepoPtr;
using git_internal::GitStatusListPtr;
using git_internal::GitTreePtr;
using git_internal::OidHex;

namespace {

constexpr const char* kRemoteName = "origin";
constexpr const char* kHeadsSpec = "+refs/heads/*:refs/heads/*";
constexpr const char* kTagsSpec = "+refs/tags/*:refs/tags/*";
constexpr const char* kGithubPullSpec = "+refs/pull/*/head:refs/pull/*/head";
constexpr const char* kGitlabMergeSpec = "+refs/merge-requests/*/head:refs/merge-requests/*/head";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string TrimRight(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

// Refuses credentials in a URL: "scheme://user:password@host/…" for every
// scheme, and any userinfo for http(s), where "https://TOKEN@host/…" is how
// tokens are commonly pasted. Secrets never go on the command line, and a URL
// is shown in logs, status and errors (never with its userinfo: RedactUrl).
Status CheckNoPasswordInUrl(std::string_view url) {
  std::string_view userinfo = UrlUserinfo(url);
  bool http = StartsWith(url, "http://") || StartsWith(url, "https://");
  if (userinfo.find(':') != std::string_view::npos || (http && !userinfo.empty())) {
    return Status::Invalid(
        "the repository URL carries credentials before its host; put the token in "
        "GITDISC_GIT_TOKEN_FILE (and the user in GITDISC_GIT_USERNAME) instead");
  }
  return Status::Ok();
}

// An flock held for the life of the object (released by close).
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno("open lock " + path, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::FromErrno("lock " + path, err);
    }
    return FileLock(fd);
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

struct FetchContext {
  std::chrono::steady_clock::time_point deadline;
  std::chrono::seconds timeout{0};
  const GitCredentials* credentials = nullptr;
  bool timed_out = false;
  int credential_calls = 0;
};

int CheckDeadline(FetchContext* c) {
  if (std::chrono::steady_clock::now() <= c->deadline) return 0;
  c->timed_out = true;
  git_error_set_str(GIT_ERROR_CALLBACK, "the fetch deadline passed");
  return -1;
}

int OnCredentials(git_credential** out, const char* url, const char* user_from_url,
                  unsigned int allowed, void* payload) {
  (void)url;
  auto* c = static_cast<FetchContext*>(payload);
  if (CheckDeadline(c) != 0) return -1;
  // libgit2 asks again after a refused credential; give up instead of looping.
  if (++c->credential_calls > 2) {
    git_error_set_str(GIT_ERROR_NET, "authentication failed with the configured credentials");
    return GIT_EAUTH;
  }
  const GitCredentials& cr = *c->credentials;
  std::string user = user_from_url != nullptr && *user_from_url ? user_from_url : cr.username;
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && !cr.ssh_key.empty()) {
    if (user.empty()) user = "git";
    std::string pub = cr.ssh_key + ".pub";
    return git_credential_ssh_key_new(
        out, user.c_str(), PathExists(pub) ? pub.c_str() : nullptr, cr.ssh_key.c_str(),
        cr.ssh_passphrase.empty() ? nullptr : cr.ssh_passphrase.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !cr.token.empty()) {
    if (user.empty()) user = "x-access-token";
    return git_credential_userpass_plaintext_new(out, user.c_str(), cr.token.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) {
    return git_credential_username_new(out, user.empty() ? "git" : user.c_str());
  }
  git_error_set_str(GIT_ERROR_NET,
                    "the remote asks for credentials: set GITDISC_GIT_TOKEN_FILE (https) or "
                    "GITDISC_SSH_KEY (ssh)");
  return GIT_EAUTH;
}

int OnTransferProgress(const git_indexer_progress*, void* payload) {
  return CheckDeadline(static_cast<FetchContext*>(payload));
}
int OnSideband(const char*, int, void* payload) {
  return CheckDeadline(static_cast<FetchContext*>(payload));
}
int OnCertificate(git_cert*, int valid, const char*, void* payload) {
  if (CheckDeadline(static_cast<FetchContext*>(payload)) != 0) return -1;
  // TLS: keep libgit2's verdict. SSH host keys are not verified by libgit2 1.5;
  // see docs/git-source.md.
  return valid ? 0 : GIT_PASSTHROUGH;
}

// Why: libgit2 1.5 reads its sockets blocking and without a timeout, so a
// remote that stops sending in the middle of a pack (a stalled server, a path
// that drops packets without a reset) left recv() waiting forever: no
// progress callback ran to see the deadline, and the daemon's poll hung
// (tests/git/fetch_interrupted_test.cc, StalledTransferEndsAtTheDeadline).
// Past the deadline this watchdog interrupts the fetching thread's blocking
// call with SIGURG, whose handler does nothing and is installed without
// SA_RESTART: the call fails with EINTR and libgit2 ends the fetch with an
// error. It signals again every 50 ms until the fetch returns, since a signal
// that lands between two calls is lost. SIGURG because its default action is
// to ignore it: should the handler ever be replaced, a late signal is
// harmless (libgit2 sends no out-of-band data, so it never raises SIGURG).
class FetchWatchdog {
 public:
  explicit FetchWatchdog(std::chrono::steady_clock::time_point deadline)
      : target_(::pthread_self()) {
    static std::once_flag installed;
    std::call_once(installed, [] {
      struct sigaction sa = {};
      sa.sa_handler = [](int) {};
      ::sigemptyset(&sa.sa_mask);
      sa.sa_flags = 0;  // no SA_RESTART: the blocked call must return EINTR
      ::sigaction(SIGURG, &sa, nullptr);
    });
    thread_ = std::thread([this, deadline] { Run(deadline); });
  }
  ~FetchWatchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  FetchWatchdog(const FetchWatchdog&) = delete;
  FetchWatchdog& operator=(const FetchWatchdog&) = delete;

  // True when the deadline passed while the fetch was still running.
  bool fired() const {
    std::lock_guard<std::mutex> l(mu_);
    return fired_;
  }

 private:
  void Run(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> l(mu_);
    if (cv_.wait_until(l, deadline, [this] { return done_; })) return;
    while (!done_) {
      fired_ = true;
      // Under mu_: the fetching thread cannot have finished (it sets done_
      // under mu_ first), so target_ is alive.
      ::pthread_kill(target_, SIGURG);
      cv_.wait_for(l, std::chrono::milliseconds(50), [this] { return done_; });
    }
  }

  pthread_t target_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;   // guarded by mu_
  bool fired_ = false;  // guarded by mu_
  std::thread thread_;
};

git_remote_callbacks MakeCallbacks(FetchContext* ctx) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = OnCredentials;
  cb.transfer_progress = OnTransferProgress;
  cb.sideband_progress = OnSideband;
  cb.certificate_check = OnCertificate;
  cb.payload = ctx;
  return cb;
}

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "." + std::to_string(rd());
}

}  // namespace

bool IsRemoteLocation(std::string_view loc) {
  for (std::string_view scheme :
       {"file://", "http://", "https://", "ssh://", "git://", "git+ssh://", "ssh+git://"}) {
    if (StartsWith(loc, scheme)) return true;
  }
  // scp-style: [user@]host:path, with no '/' before the ':'.
  size_t colon = loc.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (loc.substr(0, colon).find('/') != std::string_view::npos) return false;
  return colon + 1 < loc.size();
}

std::string MirrorName(std::string_view url) { return Sha256Hex(url).substr(0, 16); }

Result<GitCredentials> GitCredentials::FromEnvironment() {
  GitCredentials c;
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  c.username = env("GITDISC_GIT_USERNAME");
  if (std::string f = env("GITDISC_GIT_TOKEN_FILE"); !f.empty()) {
    auto token = ReadFile(f, 64 * 1024);
    if (!token.ok()) return token.status().Annotate("GITDISC_GIT_TOKEN_FILE");
    c.token = TrimRight(std::move(token).value());
  } else {
    c.token = env("GITDISC_GIT_TOKEN");
  }
  c.ssh_key = env("GITDISC_SSH_KEY");
  if (!c.ssh_key.empty() && !PathExists(c.ssh_key)) {
    return Status::NotFound("GITDISC_SSH_KEY: no such file: " + c.ssh_key);
  }
  if (std::string f = env("GITDISC_SSH_KEY_PASSPHRASE_FILE"); !f.empty()) {
    auto pass = ReadFile(f, 64 * 1024);
    if (!pass.ok()) return pass.status().Annotate("GITDISC_SSH_KEY_PASSPHRASE_FILE");
    c.ssh_passphrase = TrimRight(std::move(pass).value());
  }
  return c;
}


namespace {

Result<GitRepoPtr> OpenBare(const std::string& path) {
  git_repository* r = nullptr;
  int rc = git_repository_open_bare(&r, path.c_str());
  if (rc != 0) return GitError("open mirror " + path, rc);
  return GitRepoPtr(r);
}

// Fetches origin into `repo`, updates HEAD to the remote's default branch.
Status FetchInto(git_repository* repo, const std::string& url, const GitOpenOptions& options) {
  FetchContext ctx;
  ctx.timeout = options.fetch_timeout;
  ctx.deadline = std::chrono::steady_clock::now() + options.fetch_timeout;
  ctx.credentials = &options.credentials;

  git_remote* r = nullptr;
  int rc = git_remote_lookup(&r, repo, kRemoteName);
  if (rc != 0) return GitError("mirror of " + url + ": look up remote", rc);
  GitRemotePtr remote(r);

  git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
  fo.callbacks = MakeCallbacks(&ctx);
  fo.prune = GIT_FETCH_PRUNE;
  fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
  fo.update_fetchhead = 0;
  fo.proxy_opts.type = GIT_PROXY_AUTO;
  // The refspecs are given on every fetch (not only stored in the mirror's
  // config), so turning pull request heads on or off applies to old mirrors.
  std::vector<const char*> specs = {kHeadsSpec, kTagsSpec};
  if (options.pull_requests) {
    specs.push_back(kGithubPullSpec);
    specs.push_back(kGitlabMergeSpec);
  }
  git_strarray refspecs = {const_cast<char**>(specs.data()), specs.size()};
  bool watchdog_fired = false;
  {
    FetchWatchdog watchdog(ctx.deadline);
    rc = git_remote_fetch(remote.get(), &refspecs, &fo, "gitdisc: fetch");
    watchdog_fired = watchdog.fired();
  }
  if (rc != 0) {
    if (ctx.timed_out || watchdog_fired) {
      return Status::Timeout("fetch " + url + ": no answer within " +
                             std::to_string(options.fetch_timeout.count()) + "s");
    }
    return GitError("fetch " + url, rc);
  }
  // The remote's HEAD, still known after the fetch disconnected (as git_clone does).
  GitBuf head;
  if (git_remote_default_branch(&head.buf, remote.get()) == 0) {
    std::string ref = head.str();
    rc = git_repository_set_head(repo, ref.c_str());
    if (rc != 0) return GitError("mirror of " + url + ": set HEAD to " + ref, rc);
  } else {
    git_error_clear();  // an empty remote has no HEAD yet
  }
  return Status::Ok();
}

// Every ref of the mirror points at an object that exists, and the HEAD
// branch's commit and tree can be read: the cheap check that tells a damaged
// mirror (which a fetch would not repair: it negotiates from the refs) from a
// good one.
Status VerifyMirror(git_repository* repo, const std::string& path) {
  git_odb* o = nullptr;
  int rc = git_repository_odb(&o, repo);
  if (rc != 0) return GitError("mirror " + path, rc);
  GitOdbPtr odb(o);
  git_reference_iterator* it = nullptr;
  rc = git_reference_iterator_new(&it, repo);
  if (rc != 0) return GitError("mirror " + path + ": list refs", rc);
  GitRefIteratorPtr iter(it);
  git_reference* ref = nullptr;
  while ((rc = git_reference_next(&ref, iter.get())) == 0) {
    GitReferencePtr owned(ref);
    const git_oid* target = git_reference_target(ref);
    if (target != nullptr && !git_odb_exists(odb.get(), target)) {
      return Status::Corrupt("mirror " + path + ": " + git_reference_name(ref) +
                             " points at missing object " + OidHex(target));
    }
  }
  if (rc != GIT_ITEROVER) return GitError("mirror " + path + ": list refs", rc);
  git_object* obj = nullptr;
  rc = git_revparse_single(&obj, repo, "HEAD^{tree}");
  if (rc == 0) {
    git_object_free(obj);
  } else if (rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH) {
    return GitError("mirror " + path + ": read HEAD", rc);
  } else {
    git_error_clear();
  }
  return Status::Ok();
}

// Clones url into a fresh bare mirror at a temp path, then renames it to
// `path` (replacing a damaged one). The old folder is removed only after the
// new one is in place.
Status CloneMirror(const std::string& url, const std::string& path, const GitOpenOptions& options) {
  std::string tmp = path + ".tmp." + RandomSuffix();
  GITDISC_RETURN_IF_ERROR(RemoveAll(tmp));
  Status s = [&]() -> Status {
    git_repository* r = nullptr;
    int rc = git_repository_init(&r, tmp.c_str(), /*is_bare=*/1);
    if (rc != 0) return GitError("create mirror " + tmp, rc);
    GitRepoPtr repo(r);
    git_remote* rem = nullptr;
    rc = git_remote_create_with_fetchspec(&rem, repo.get(), kRemoteName, url.c_str(), kHeadsSpec);
    if (rc != 0) return GitError("mirror of " + url + ": add remote", rc);
    git_remote_free(rem);
    rc = git_remote_add_fetch(repo.get(), kRemoteName, kTagsSpec);
    if (rc != 0) return GitError("mirror of " + url + ": add tag refspec", rc);
    return FetchInto(repo.get(), url, options);
  }();
  if (!s.ok()) {
    (void)RemoveAll(tmp);
    return s;
  }
  std::string old;
  if (PathExists(path)) {
    old = path + ".old." + RandomSuffix();
    if (::rename(path.c_str(), old.c_str()) != 0) {
      Status e = Status::FromErrno("move damaged mirror " + path + " aside", errno);
      (void)RemoveAll(tmp);
      return e;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status e = Status::FromErrno("rename " + tmp + " to " + path, errno);
    if (!old.empty()) (void)::rename(old.c_str(), path.c_str());
    (void)RemoveAll(tmp);
    return e;
  }
  if (!old.empty()) (void)RemoveAll(old);
  return Status::Ok();
}

}  // namespace

GitRepository::GitRepository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GitRepository::~GitRepository() {
  if (!impl_) return;
  std::shared_ptr<GitRepoHandle> handle = impl_->handle;
  std::lock_guard<std::mutex> l(handle->mu);
  impl_.reset();
}

Result<std::unique_ptr<GitRepository>> GitRepository::Open(const GitLibrary&,
                                                           const std::string& location,
                                                           const GitOpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->handle = std::make_shared<GitRepoHandle>();
  impl->location = location;
  impl->options = options;
  if (location.empty()) return Status::Invalid("--repo is empty");

  bool remote = IsRemoteLocation(location) &&
                !(location.find("://") == std::string::npos && PathExists(location));
  if (!remote) {
    if (!PathExists(location)) return Status::NotFound(location + ": no such repository folder");
    git_repository* r = nullptr;
    int rc = git_repository_open_ext(&r, location.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      // Inside a bigger working tree: say which one, since reading the
      // folder itself would read uncommitted edits.
      GitBuf found;
      if (git_repository_discover(&found.buf, location.c_str(), 0, nullptr) == 0) {
        return Status::Invalid(location + " is inside the Git repository " + found.str() +
                               "; give --repo that repository's top folder and --path the "
                               "folder inside it");
      }
      git_error_clear();
      return Status::NotFound(location +
                              ": not a Git repository (gitdisc reads committed specs; "
                              "give --repo the repository's top folder)");
    }
    if (rc != 0) return GitError("open repository " + location, rc);
    impl->handle->repo.reset(r);
    impl->path = location;
    impl->bare = git_repository_is_bare(r) != 0;
    return std::unique_ptr<GitRepository>(new GitRepository(std::move(impl)));
  }

  GITDISC_RETURN_IF_ERROR(CheckNoPasswordInUrl(location));
  if (options.state_dir.empty()) {
    return Status::Invalid("a remote repository needs a state folder for its mirror");
  }
  std::string mirrors = JoinPath(options.state_dir, "mirrors");
  GITDISC_RETURN_IF_ERROR(MakeDirs(mirrors, 0700));
  impl->remote = true;
  impl->bare = true;
  impl->path = JoinPath(mirrors, MirrorName(location));
  auto repo = std::unique_ptr<GitRepository>(new GitRepository(std::move(impl)));
  if (options.fetch) {
    Status s = repo->Fetch();
    if (!s.ok() && repo->impl_->handle->repo == nullptr) return s;  // no mirror to fall back on
  } else {
    auto opened = OpenBare(repo->impl_->path);
    if (!opened.ok()) {
      return Status::NotFound("no mirror of " + location + " yet (fetch it first)");
    }
    repo->impl_->handle->repo = std::move(opened).value();
  }
  return repo;
}

Status GitRepository::Fetch() {
  Impl& m = *impl_;
  if (!m.remote) return Status::Ok();
  auto lock = FileLock::Acquire(m.path + ".lock");
  if (!lock.ok()) return m.fetch_status = lock.status();

  // Trees handed out earlier keep the old handle (and its open repository);
  // this fetch fills a new one, so a re-clone never pulls a folder from under
  // a tree being read.
  auto fresh = std::make_shared<GitRepoHandle>();
  Status result;
  bool reclone = !PathExists(m.path);
  if (!reclone) {
    auto opened = OpenBare(m.path);
    if (!opened.ok()) {
      reclone = true;
    } else {
      Status verified = VerifyMirror(opened->get(), m.path);
      if (!verified.ok()) {
        reclone = true;
      } else {
        result = FetchInto(opened->get(), m.location, m.options);
        if (result.code() == Status::Code::kCorrupt) {
          reclone = true;
        } else if (result.ok()) {
          Status after = VerifyMirror(opened->get(), m.path);
          if (!after.ok()) reclone = true;
        }
        if (!reclone) fresh->repo = std::move(opened).value();
      }
    }
  }
  if (reclone) {
    result = CloneMirror(m.location, m.path, m.options);
    if (PathExists(m.path)) {
      auto opened = OpenBare(m.path);
      if (opened.ok() && (result.ok() || VerifyMirror(opened->get(), m.path).ok())) {
        fresh->repo = std::move(opened).value();
      }
    }
  }
  if (fresh->repo != nullptr || m.handle->repo == nullptr) m.handle = std::move(fresh);
  m.fetch_status = result;
  return result;
}

bool GitRepository::remote() const { return impl_->remote; }
const std::string& GitRepository::location() const { return impl_->location; }
const std::string& GitRepository::path() const { return impl_->path; }
bool GitRepository::bare() const { return impl_->bare; }
const Status& GitRepository::fetch_status() const { return impl_->fetch_status; }

Result<std::string> GitRepository::DefaultBranch() const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  git_reference* head = nullptr;
  int rc = git_reference_lookup(&head, impl_->repo(), "HEAD");
  if (rc != 0) return GitError(impl_->location + ": read HEAD", rc);
  GitReferencePtr owned(head);
  if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
    return Status::NotFound(impl_->location + ": HEAD is detached; name a branch with --branch");
  }
  std::string target = git_reference_symbolic_target(head);
  constexpr std::string_view kHeads = "refs/heads/";
  if (StartsWith(target, kHeads)) return target.substr(kHeads.size());
  return target;
}

Result<GitObjectPtr> GitRepository::Impl::PeelToCommit(std::string_view rev) const {
  git_object* obj = nullptr;
  std::string spec(rev);
  int rc = git_revparse_single(&obj, repo(), spec.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    git_error_clear();
    return Status::NotFound("unknown revision '" + spec + "' in " + location);
  }
  if (rc == GIT_EAMBIGUOUS) {
    git_error_clear();
    return Status::Invalid("revision '" + spec + "' is ambiguous in " + location +
                           "; give more digits");
  }
  if (rc != 0) return GitError("resolve revision '" + spec + "' in " + location, rc);
  GitObjectPtr owned(obj);
  git_object* commit = nullptr;
  rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
  if (rc != 0) {
    git_error_clear();
    return Status::Invalid("revision '" + spec + "' in " + location + " does not name a commit");
  }
  return GitObjectPtr(commit);
}

Result<std::string> GitRepository::BranchTip(std::string_view branch) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::string ref;
  if (branch.empty()) {
    auto def = DefaultBranch();
    if (!def.ok()) {
      if (impl_->remote) return def.status();
      ref = "HEAD";  // detached local HEAD: its commit
    } else {
      ref = "refs/heads/" + def.value();
    }
  } else {
    ref = "refs/heads/" + std::string(branch);
  }
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, impl_->repo(), ref.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    git_error_clear();
    return Status::NotFound("no branch '" + (branch.empty() ? ref : std::string(branch)) + "' in " +
                            impl_->location);
  }
  if (rc != 0) return GitError("resolve " + ref + " in " + impl_->location, rc);
  // Peel in case the ref names a tag object (refs/heads never should).
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr commit, impl_->PeelToCommit(OidHex(&oid)));
  return OidHex(git_object_id(commit.get()));
}

Result<std::string> GitRepository::ResolveRevision(std::string_view rev) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  if (rev.empty()) return Status::Invalid("empty revision");
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr commit, impl_->PeelToCommit(rev));
  return OidHex(git_object_id(commit.get()));
}

Result<CommitInfo> GitRepository::Commit(std::string_view sha) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr obj, impl_->PeelToCommit(sha));
  auto* c = reinterpret_cast<git_commit*>(obj.get());
  CommitInfo info;
  info.sha = OidHex(git_commit_id(c));
  const char* summary = git_commit_summary(c);
  info.summary = summary != nullptr ? summary : "";
  info.time = static_cast<int64_t>(git_commit_time(c));
  for (unsigned i = 0; i < git_commit_parentcount(c); ++i) {
    info.parents.push_back(OidHex(git_commit_parent_id(c, i)));
  }
  return info;
}

Result<std::unique_ptr<GitTree>> GitRepository::TreeAt(std::string_view sha) const {
  GITDISC_RETURN_IF_ERROR(impl_->Ready());
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  GITDISC_ASSIGN_OR_RETURN(GitObjectPtr obj, impl_->PeelToCommit(sha));
  auto* c = reinterpret_cast<git_commit*>(obj.get());
  auto t = std::make_unique<GitTree::Impl>();
  t->handle = impl_->handle;
  t->commit = OidHex(git_commit_id(c));
  t->commit_time = static_cast<int64_t>(git_commit_time(c));
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, c);
  if (rc != 0) return GitError("read the tree of commit " + t->commit.substr(0, 7), rc);
  t->root.reset(tree);
  git_odb* odb = nullptr;
  rc = git_repository_odb(&odb, impl_->repo());
  if (rc != 0) return GitError("open the object database of " + impl_->location, rc);
  t->odb.reset(odb);
  return std::make_unique<GitTree>(std::move(t));
}

Result<std::vector<std::string>> GitRepository::UncommittedChanges(size_t max,
                                                                   std::string_view under) const {
  std::vector<std::string> out;
  if (impl_->remote || impl_->bare) return out;
  std::lock_guard<std::mutex> l(impl_->handle->mu);
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  std::string spec(under);
  char* specs[1] = {spec.data()};
  if (!spec.empty()) {
    opts.pathspec.strings = specs;
    opts.pathspec.count = 1;
  }
  git_status_list* list = nullptr;
  int rc = git_status_list_new(&list, impl_->repo(), &opts);
  if (rc != 0) return GitError("status of " + impl_->location, rc);
  GitStatusListPtr owned(list);
  size_t n = git_status_list_entrycount(list);
  for (size_t i = 0; i < n && out.size() < max; ++i) {
    const git_status_entry* e = git_status_byindex(list, i);
    const git_diff_delta* d =
        e->index_to_workdir != nullptr ? e->index_to_workdir : e->head_to_index;
    if (d == nullptr) continue;
    const char* p = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    if (p != nullptr) out.emplace_back(p);
  }
  return out;
}

}  // namespace gitdisc::specs
