// GitRepository: a Git repository gitdisc reads specs from (DESIGN.md §1, §4).
//
// `--repo` may be
//   - a local working or bare repository (a path): read in place, never
//     fetched, never written;
//   - a remote URL: file://, http(s)://, ssh://, git:// or scp-style
//     (user@host:path). A remote is kept as a bare mirror under
//     STATE/mirrors/<first 16 hex digits of sha256(URL)> whose refs/heads and
//     refs/tags (and, when asked, pull request heads) follow the remote's
//     (forced updates, pruned), and whose HEAD
//     names the remote's default branch. A fetch has a deadline (checked in
//     libgit2's progress callbacks, since libgit2 1.5 has no network timeout
//     option, and enforced on a call blocked on the network by interrupting
//     it with SIGURG); a fetch that fails keeps the mirror and its last known
//     revisions, reported through fetch_status(). A mirror that cannot be
//     opened or whose refs point at missing objects is re-cloned into a temp
//     folder and swapped in by rename, so a broken mirror is never left in
//     place of a good one. Fetches of one mirror are serialised across
//     processes by an flock on STATE/mirrors/<hash>.lock.
//
// Credentials never come from the command line: GitCredentials::FromEnvironment
// reads GITDISC_GIT_TOKEN_FILE / GITDISC_GIT_TOKEN (https) and GITDISC_SSH_KEY
// (ssh); they are never logged. A URL with a password in it is refused.
//
// A GitRepository is used by one thread at a time; the GitTrees it hands out
// are independent and thread-safe (they share the repository under a lock).
#ifndef GITDISC_SPECS_GIT_REPOSITORY_H_
#define GITDISC_SPECS_GIT_REPOSITORY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/git_library.h"
#include "specs/git_tree.h"

namespace gitdisc::specs {

struct GitCredentials {
  std::string username;        // https: default "x-access-token"; ssh: default from URL, else "git"
  std::string token;           // https password / access token
  std::string ssh_key;         // private key file for ssh
  std::string ssh_passphrase;  // of ssh_key, if any

  // GITDISC_GIT_USERNAME, GITDISC_GIT_TOKEN_FILE (preferred; trailing
  // whitespace trimmed) or GITDISC_GIT_TOKEN, GITDISC_SSH_KEY,
  // GITDISC_SSH_KEY_PASSPHRASE_FILE. Fails when a named file cannot be read.
  static Result<GitCredentials> FromEnvironment();
};

struct GitOpenOptions {
  std::string state_dir;  // required for remotes (mirrors live in STATE/mirrors)
  std::chrono::seconds fetch_timeout{120};
  // false: use an existing mirror as it is (kNotFound when there is none).
  bool fetch = true;
  // Mirrors also fetch pull request heads: refs/pull/*/head (GitHub) and
  // refs/merge-requests/*/head (GitLab), kept under the same names.
  bool pull_requests = false;
  GitCredentials credentials;
};

struct CommitInfo {
  std::string sha;      // 40 hex
  std::string summary;  // first line of the message
  int64_t time = 0;     // committer time, seconds since the epoch
  std::vector<std::string> parents;
};

// A commit's signature as Git stores it (the gpgsig header) and the bytes it
// signs (the commit object without that header).
struct CommitSignatureData {
  std::string commit;       // 40 hex
  std::string signature;    // as stored (armored); "" when the commit is unsigned
  std::string signed_data;  // what the signature covers
  int64_t time = 0;         // committer time, seconds since the epoch
};

// True when `location` names a remote (URL or scp-style) rather than a path.
bool IsRemoteLocation(std::string_view location);
// The mirror folder name for a URL: first 16 hex digits of sha256(URL).
std::string MirrorName(std::string_view url);

class GitRepository {
 public:
  // Opens a local repository in place, or mirrors a remote (fetching unless
  // options.fetch is false). Errors: kNotFound (no such path / not a
  // repository / unknown mirror), kUnavailable or kTimeout (remote unreachable
  // and no mirror yet), kPermission (authentication), kInvalid (bad URL).
  static Result<std::unique_ptr<GitRepository>> Open(const GitLibrary& lib,
                                                     const std::string& location,
                                                     const GitOpenOptions& options);
  ~GitRepository();
  GitRepository(const GitRepository&) = delete;
  GitRepository& operator=(const GitRepository&) = delete;

  bool remote() const;
  const std::string& location() const;  // as given to Open
  const std::string& path() const;      // the repository folder read (mirror for remotes)
  bool bare() const;

  // Fetches a remote into its mirror (no-op for local repositories). On
  // failure the mirror keeps its last known refs; the failure is also
  // remembered in fetch_status().
  Status Fetch();
  // Outcome of the last fetch (ok for local repositories and before any fetch).
  const Status& fetch_status() const;

  // The branch HEAD names: the remote's default branch for a mirror, the
  // checked-out branch for a local repo. kNotFound when HEAD is detached
  // (local) or unknown.
  Result<std::string> DefaultBranch() const;
  // Full SHA of a branch's tip; "" means DefaultBranch (or a detached HEAD).
  Result<std::string> BranchTip(std::string_view branch) const;
  // Full SHA of the commit a revision names: full or short SHA, tag
  // (annotated tags are peeled), branch, or any git_revparse expression.
  // kNotFound for unknown revisions, kInvalid for ambiguous ones.
  Result<std::string> ResolveRevision(std::string_view rev) const;
  Result<CommitInfo> Commit(std::string_view sha) const;
  // The signature of a commit (git_commit_extract_signature). An unsigned
  // commit is no error: its signature is empty.
  Result<CommitSignatureData> Signature(std::string_view sha) const;
  // Commits reachable from `tip` and from none of `hide` (git rev-list TIP
  // ^HIDE...), newest first. Hidden revisions that are unknown are skipped.
  // kInvalid when there are more than `max`.
  Result<std::vector<std::string>> CommitsBetween(std::string_view tip,
                                                  const std::vector<std::string>& hide,
                                                  size_t max) const;
  // The commit's tree as a RepoTree (no checkout).
  Result<std::unique_ptr<GitTree>> TreeAt(std::string_view sha) const;

  // For a local working repository: up to `max` paths with uncommitted
  // changes (modified, staged, untracked), only below `under` when it is not
  // empty. Empty for bare repos and mirrors.
  Result<std::vector<std::string>> UncommittedChanges(size_t max = 10,
                                                      std::string_view under = "") const;

  struct Impl;

 private:
  explicit GitRepository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gitdisc::specs

#endif  // GITDISC_SPECS_GIT_REPOSITORY_H_
