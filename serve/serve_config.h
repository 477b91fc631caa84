// The configuration of `gitdisc serve` (DESIGN.md §8, docs/daemon.md): which
// branch to follow (and which signatures it must carry, and whether pull
// request heads are fetched for previews), which libvirt connections to
// manage, where to keep state, where to listen, the secrets of the webhooks
// and the API, and where to report (commit statuses on GitHub/GitLab, alert
// webhooks).
//
// ParseServeConfig validates the whole file and reports every problem as a
// located diagnostic ("FILE:LINE:COLUMN: error: MESSAGE"), like spec errors;
// unknown keys are errors so a typo never silently disables a webhook.
//
// Secrets come only from files named in the config. A secret file that other
// users may read (mode & 007) is refused. A Secret's value never reaches a
// log, a status document or an error message: Secret has no stream operator
// and diagnostics name only the file.
//
// Values; parsing is thread-compatible (touches only the files it names).
#ifndef GITDISC_SERVE_SERVE_CONFIG_H_
#define GITDISC_SERVE_SERVE_CONFIG_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "specs/verify_options.h"
#include "specs/spec_types.h"

namespace gitdisc::serve {

// A secret read from a file. Reveal() is the only way to the bytes; callers
// use it for HMAC keys and constant-time comparisons, nothing else.
class Secret {
 public:
  Secret() = default;
  Secret(std::string value, std::string file) : value_(std::move(value)), file_(std::move(file)) {}
  std::string_view Reveal() const { return value_; }
  // The file it came from: safe to log.
  const std::string& file() const { return file_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
  std::string file_;
};

struct ServeConfig {
  struct Source {
    std::string repo;  // a local path or a URL
    std::string branch = "main";
    std::string path = ".";  // spec folder inside the repo
    std::chrono::milliseconds interval{std::chrono::minutes(1)};
    // source.verify: signed commits only (files resolved against the
    // config's folder; the allowed signers file is parsed at load).
    specs::VerifyOptions verify;
    // source.pullRequests: the mirror also fetches refs/pull/*/head (GitHub)
    // and refs/merge-requests/*/head (GitLab), for previews.
    bool pull_requests = false;
  };
  Source source;
  std::vector<std::string> connections{"qemu:///system"};
  std::string state_dir = "/var/lib/gitdisc";
  std::string listen_host = "127.0.0.1";  // `listen` must name it: ":9420" is an error
  int listen_port = 9420;                 // 0: any free port (tests)
  // Host header values accepted (names or addresses, compared without the
  // port, case-insensitively). Unset: see HttpServerOptions::FromConfig (the
  // loopback names when listening on loopback, else no check).
  std::optional<std::vector<std::string>> allowed_hosts;

  struct Artifacts {
    // Folders `file:` artifacts may come from (absolute, existing, resolved
    // with realpath). Empty: `file:` artifacts are refused.
    std::vector<std::string> file_roots;
    bool allow_http = false;  // url: artifacts over plain http://
  };
  Artifacts artifacts;

  // Absent when the provider (or the API token) is not configured: its
  // endpoint then answers 404.
  std::optional<Secret> github_secret;
  std::optional<Secret> gitlab_token;
  std::optional<Secret> generic_secret;
  std::optional<Secret> api_token;
  // Allows the read endpoints that need a token (GET /api/v1/plan) and
  // nothing else; the API token allows them too.
  std::optional<Secret> read_token;

  // cache: {maxBytes: 10GiB, poolGrace: 1h} (docs/daemon.md).
  struct Cache {
    uint64_t max_bytes = 10ull << 30;  // the image cache's bound (LRU eviction)
    // Remote pool images no desired bundle uses are deleted after this long.
    std::chrono::seconds pool_grace{3600};
  };
  Cache cache;

  // notify.githubStatus / notify.gitlabStatus: commit statuses.
  struct StatusTarget {
    std::string api_url;  // e.g. https://api.github.com, https://gitlab.example/api/v4
    std::string repo;     // GitHub OWNER/NAME; GitLab project id or path (group/name)
    Secret token;
  };
  // notify.webhooks[]: alerts, signed like the generic receiver.
  struct AlertTarget {
    std::string url;
    Secret secret;
    std::vector<std::string> events;  // event reasons (serve/alerts.h)
  };
  struct Notify {
    std::optional<StatusTarget> github_status;
    std::optional<StatusTarget> gitlab_status;
    std::vector<AlertTarget> webhooks;
    bool empty() const { return !github_status && !gitlab_status && webhooks.empty(); }
  };
  Notify notify;
};

struct ServeConfigResult {
  std::optional<ServeConfig> config;           // set only when diagnostics is empty
  std::vector<specs::Diagnostic> diagnostics;  // every problem found, in file order
};

// Parses and validates config text. file_name is used in diagnostics and to
// resolve relative secret file paths (relative to the config's folder).
ServeConfigResult ParseServeConfig(std::string_view text, const std::string& file_name);

// Reads and parses a config file; an unreadable file is one diagnostic.
ServeConfigResult LoadServeConfig(const std::string& path);

// Reads one secret file: refuses a missing, empty or world-accessible file
// (mode & 007) and strips one trailing newline ("\n" or "\r\n"), as written by
// `echo secret > file`. Errors name the file, never its content.
Result<Secret> ReadSecretFile(const std::string& path);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_SERVE_CONFIG_H_
