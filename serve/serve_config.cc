#include "serve/serve_config.h"

#include <sys/stat.h>
// GCC 12 reports a false "dangling pointer" inside yaml-cpp's inlined node
// lookups (yaml-cpp issue #1150); the header is correct.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <functional>
#include <map>
#include <set>

#include "base/byte_size.h"
#include "base/duration.h"
#include "base/file_util.h"
#include "base/url_text.h"
#include "serve/alert_events.h"
#include "specs/allowed_signers.h"

namespace gitdisc::serve {
namespace {

constexpr uint64_t kMaxConfigBytes = 1 << 20;
constexpr uint64_t kMaxSecretBytes = 64 << 10;

class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  void Error(const YAML::Mark& mark, std::string message) {
    specs::Diagnostic d;
    d.pos.file = file_;
    if (mark.line >= 0) {
      d.pos.line = mark.line + 1;
      d.pos.column = mark.column + 1;
    }
    d.message = std::move(message);
    diagnostics_.push_back(std::move(d));
  }
  void Error(const YAML::Node& node, std::string message) {
    Error(node.Mark(), std::move(message));
  }

  // Walks a mapping: calls the handler of each known key, reports unknown and
  // duplicate keys. Returns false (after reporting) when node is not a map.
  bool Map(const YAML::Node& node, const std::string& what,
           const std::map<std::string,
                          std::function<void(const YAML::Node& key, const YAML::Node& value)>>&
               handlers) {
    if (!node.IsMap()) {
      Error(node, what + " must be a mapping");
      return false;
    }
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // A copy: yaml-cpp's iterator returns its pair through a temporary
      // proxy, so a reference to it->first dangles at the end of this
      // statement (found by tests/fuzz/serve_config_fuzzer under ASan).
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        Error(key, "keys in " + what + " must be strings");
        continue;
      }
      const std::string k = key.Scalar();
      if (!seen.insert(k).second) {
        Error(key, "duplicate key '" + k + "' in " + what);
        continue;
      }
      auto h = handlers.find(k);
      if (h == handlers.end()) {
        std::string known;
        for (const auto& [name, unused] : handlers) known += (known.empty() ? "" : ", ") + name;
        Error(key, "unknown key '" + k + "' in " + what + " (expected one of: " + known + ")");
        continue;
      }
      h->second(key, it->second);
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      Error(node, what + " must be a string");
      return std::nullopt;
    }
    if (node.Scalar().empty()) {
      Error(node, what + " must not be empty");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::vector<specs::Diagnostic> Take() { return std::move(diagnostics_); }
  bool clean() const { return diagnostics_.empty(); }

 private:
  std::string file_;
  std::vector<specs::Diagnostic> diagnostics_;
};

std::string Dirname(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string ResolveRelative(const std::string& config_file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return JoinPath(Dirname(config_file), path);
}

bool ParseListen(const std::string& text, std::string* host, int* port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return false;  // ":9420" would bind every address silently
  if (p.empty() || p.size() > 5) return false;
  int value = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  *host = h;
  *port = value;
  return true;
}

// A readable file named in the config, resolved against the config's folder.
std::optional<std::string> ConfigFile(Checker& check, const YAML::Node& node,
                                      const std::string& what, const std::string& config_file) {
  auto s = check.String(node, what);
  if (!s) return std::nullopt;
  std::string path = ResolveRelative(config_file, *s);
  if (!PathExists(path)) {
    check.Error(node, what + ": " + path + " does not exist");
    return std::nullopt;
  }
  return path;
}

// source.verify: {allowedSignersFile, gpgKeyringFile, mode}.
void ParseVerify(Checker& check, const YAML::Node& node, const std::string& config_file,
                 specs::VerifyOptions* out) {
  bool ok = check.Map(
      node, "source.verify",
      {
          {"allowedSignersFile",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto path = ConfigFile(check, v, "source.verify.allowedSignersFile", config_file);
             if (!path) return;
             // Checked now, so a typo in a key line is a config error with its line.
             auto signers = specs::AllowedSigners::Load(*path);
             if (!signers.ok()) {
               check.Error(v, "source.verify.allowedSignersFile: " + signers.status().message());
               return;
             }
             out->allowed_signers_file = *path;
           }},
          {"gpgKeyringFile",
           [&](const YAML::Node&, const YAML::Node& v) {
             if (auto path = ConfigFile(check, v, "source.verify.gpgKeyringFile", config_file)) {
               out->gpg_keyring_file = *path;
             }
           }},
          {"mode",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto s = check.String(v, "source.verify.mode");
             if (!s) return;
             auto mode = specs::ParseVerifyMode(*s);
             if (!mode.ok()) {
               check.Error(v, "source.verify.mode: " + mode.status().message());
             } else {
               out->mode = *mode;
             }
           }},
      });
  if (ok && !node["allowedSignersFile"] && !node["gpgKeyringFile"]) {
    check.Error(node, "source.verify: name allowedSignersFile and/or gpgKeyringFile");
  }
}

bool IsHttpUrl(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

// notify.githubStatus / notify.gitlabStatus: {apiUrl, repo|project, tokenFile}.
void ParseStatusTarget(Checker& check, const YAML::Node& node, const std::string& what,
                       const std::string& repo_key, const std::string& config_file,
                       std::optional<ServeConfig::StatusTarget>* out) {
  ServeConfig::StatusTarget t;
  std::optional<Secret> token;
  bool ok = check.Map(
      node, what,
      {
          {"apiUrl",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto s = check.String(v, what + ".apiUrl");
             if (!s) return;
             if (!IsHttpUrl(*s)) {
               check.Error(v, what + ".apiUrl must be an http:// or https:// URL");
               return;
             }
             t.api_url = *s;
             while (!t.api_url.empty() && t.api_url.back() == '/') t.api_url.pop_back();
           }},
          {repo_key,
           [&](const YAML::Node&, const YAML::Node& v) {
             auto s = check.String(v, what + "." + repo_key);
             if (!s) return;
             if (repo_key == "repo" && (s->find('/') == std::string::npos || s->front() == '/' ||
                                        s->back() == '/')) {
               check.Error(v, what + ".repo must be OWNER/NAME");
               return;
             }
             t.repo = *s;
           }},
          {"tokenFile",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto path = check.String(v, what + ".tokenFile");
             if (!path) return;
             auto secret = ReadSecretFile(ResolveRelative(config_file, *path));
             if (!secret.ok()) {
               check.Error(v, secret.status().message());
               return;
             }
             token = std::move(secret).value();
           }},
      });
  if (!ok) return;
  for (const char* key : {"apiUrl", "tokenFile"}) {
    if (!node[key]) check.Error(node, what + ": '" + key + "' is required");
  }
  if (!node[repo_key]) check.Error(node, what + ": '" + repo_key + "' is required");
  if (t.api_url.empty() || t.repo.empty() || !token) return;
  t.token = std::move(*token);
  *out = std::move(t);
}

// notify.webhooks: [{url, secretFile, events: [...]}].
void ParseAlertTargets(Checker& check, const YAML::Node& node, const std::string& config_file,
                       std::vector<ServeConfig::AlertTarget>* out) {
  if (!node.IsSequence() || node.size() == 0) {
    check.Error(node, "notify.webhooks must be a non-empty list");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string what = "notify.webhooks[" + std::to_string(i) + "]";
    ServeConfig::AlertTarget t;
    std::optional<Secret> secret;
    bool ok = check.Map(
        item, what,
        {
            {"url",
             [&](const YAML::Node&, const YAML::Node& v) {
               auto s = check.String(v, what + ".url");
               if (s && !IsHttpUrl(*s)) {
                 check.Error(v, what + ".url must be an http:// or https:// URL");
               } else if (s) {
                 t.url = *s;
               }
             }},
            {"secretFile",
             [&](const YAML::Node&, const YAML::Node& v) {
               auto path = check.String(v, what + ".secretFile");
               if (!path) return;
               auto r = ReadSecretFile(ResolveRelative(config_file, *path));
               if (!r.ok()) {
                 check.Error(v, r.status().message());
               } else {
                 secret = std::move(r).value();
               }
             }},
            {"events",
             [&](const YAML::Node&, const YAML::Node& v) {
               if (!v.IsSequence() || v.size() == 0) {
                 check.Error(v, what + ".events must be a non-empty list of event names");
                 return;
               }
               for (const auto& e : v) {
                 auto name = check.String(e, what + ".events[]");
                 if (!name) continue;
                 if (!IsAlertEvent(*name)) {
                   check.Error(e, what + ".events: unknown event '" + *name +
                                      "' (expected one of: " + AlertEventList() + ")");
                   continue;
                 }
                 t.events.push_back(*name);
               }
             }},
        });
    if (!ok) continue;
    for (const char* key : {"url", "secretFile", "events"}) {
      if (!item[key]) check.Error(item, what + ": '" + key + "' is required");
    }
    if (t.url.empty() || !secret || t.events.empty()) continue;
    t.secret = std::move(*secret);
    out->push_back(std::move(t));
  }
}

void ParseNotify(Checker& check, const YAML::Node& node, const std::string& config_file,
                 ServeConfig::Notify* out) {
  check.Map(node, "notify",
            {
                {"githubStatus",
                 [&](const YAML::Node&, const YAML::Node& v) {
                   ParseStatusTarget(check, v, "notify.githubStatus", "repo", config_file,
                                     &out->github_status);
                 }},
                {"gitlabStatus",
                 [&](const YAML::Node&, const YAML::Node& v) {
                   ParseStatusTarget(check, v, "notify.gitlabStatus", "project", config_file,
                                     &out->gitlab_status);
                 }},
                {"webhooks",
                 [&](const YAML::Node&, const YAML::Node& v) {
                   ParseAlertTargets(check, v, config_file, &out->webhooks);
                 }},
            });
}

void ParseAllowedHosts(Checker& check, const YAML::Node& v, ServeConfig* cfg) {
  if (!v.IsSequence() || v.size() == 0) {
    check.Error(v, "allowedHosts must be a non-empty list of host names (e.g. [gitdisc.example])");
    return;
  }
  std::vector<std::string> hosts;
  for (const auto& h : v) {
    auto s = check.String(h, "an allowed host");
    if (!s) continue;
    if (s->find_first_of(" \t/@?#,") != std::string::npos) {
      check.Error(h, "allowedHosts: '" + *s + "' is not a host name (no scheme, path or port)");
      continue;
    }
    hosts.push_back(*s);
  }
  cfg->allowed_hosts = std::move(hosts);
}

void ParseArtifacts(Checker& check, const YAML::Node& v, const std::string& config_file,
                    ServeConfig::Artifacts* out) {
  check.Map(
      v, "artifacts",
      {{"fileRoots",
        [&](const YAML::Node&, const YAML::Node& list) {
          if (!list.IsSequence()) {
            check.Error(list, "artifacts.fileRoots must be a list of folders");
            return;
          }
          for (const auto& r : list) {
            auto s = check.String(r, "an artifact root");
            if (!s) continue;
            if ((*s)[0] != '/') {
              check.Error(r, "artifacts.fileRoots: '" + *s + "' must be an absolute path");
              continue;
            }
            auto real = RealFolder(*s);
            if (!real.ok()) {
              check.Error(r, "artifacts.fileRoots: " + real.status().message());
              continue;
            }
            out->file_roots.push_back(*real);
          }
        }},
       {"allowHttp", [&](const YAML::Node&, const YAML::Node& b) {
          if (!b.IsScalar() || (b.Scalar() != "true" && b.Scalar() != "false")) {
            check.Error(b, "artifacts.allowHttp must be true or false");
            return;
          }
          out->allow_http = b.Scalar() == "true";
        }}});
  (void)config_file;
}

void ParseCache(Checker& check, const YAML::Node& node, ServeConfig* cfg) {
  check.Map(node, "cache",
            {
                {"maxBytes",
                 [&](const YAML::Node&, const YAML::Node& v) {
                   auto s = check.String(v, "cache.maxBytes");
                   if (!s) return;
                   auto bytes = ParseByteSize(*s);
                   if (!bytes.ok()) {
                     check.Error(v, "cache.maxBytes: " + bytes.status().message());
                   } else {
                     cfg->cache.max_bytes = *bytes;
                   }
                 }},
                {"poolGrace",
                 [&](const YAML::Node&, const YAML::Node& v) {
                   auto s = check.String(v, "cache.poolGrace");
                   if (!s) return;
                   auto d = ParseDuration(*s);
                   if (!d.ok()) {
                     check.Error(v, "cache.poolGrace: " + d.status().message());
                   } else {
                     cfg->cache.pool_grace = std::chrono::duration_cast<std::chrono::seconds>(*d);
                   }
                 }},
            });
}

}  // namespace

Result<Secret> ReadSecretFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::FromErrno("secret file " + path, errno);
  if (!S_ISREG(st.st_mode))
    return Status::Invalid("secret file " + path + " is not a regular file");
  if ((st.st_mode & 007) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::Permission("secret file " + path + " is accessible to other users (mode " +
                              mode + "); run: chmod o-rwx " + path);
  }
  auto content = ReadFile(path, kMaxSecretBytes);
  if (!content.ok()) {
    // The read error names the path only (ReadFile never quotes content).
    return content.status().Annotate("secret file");
  }
  std::string value = std::move(content).value();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty()) return Status::Invalid("secret file " + path + " is empty");
  return Secret(std::move(value), path);
}

ServeConfigResult ParseServeConfig(std::string_view text, const std::string& file_name) {
  ServeConfigResult result;
  Checker check(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    check.Error(e.mark, "invalid YAML: " + e.msg);
    result.diagnostics = check.Take();
    return result;
  }
  ServeConfig cfg;
  if (!root.IsDefined() || root.IsNull()) {
    check.Error(YAML::Mark(), "empty config: 'source' is required");
    result.diagnostics = check.Take();
    return result;
  }

  // Secrets are read after the structure is known good, so an error in the
  // file does not hide behind a missing secret and vice versa: both are listed.
  auto secret = [&](const YAML::Node& value, const std::string& what, std::optional<Secret>* out) {
    auto path = check.String(value, what);
    if (!path) return;
    auto s = ReadSecretFile(ResolveRelative(file_name, *path));
    if (!s.ok()) {
      check.Error(value, s.status().message());
      return;
    }
    *out = std::move(s).value();
  };
  auto secret_block = [&](const YAML::Node& node, const std::string& what, const std::string& key,
                          std::optional<Secret>* out) {
    bool has_key = false;
    if (!check.Map(node, what, {{key, [&](const YAML::Node&, const YAML::Node& v) {
                                   has_key = true;
                                   secret(v, what + "." + key, out);
                                 }}})) {
      return;
    }
    if (!has_key) check.Error(node, what + ": '" + key + "' is required");
  };

  bool has_source = false;
  check.Map(
      root, "the config",
      {
          {"source",
           [&](const YAML::Node&, const YAML::Node& v) {
             has_source = true;
             bool has_repo = false;
             if (!check.Map(
                     v, "source",
                     {
                         {"repo",
                          [&](const YAML::Node&, const YAML::Node& r) {
                            has_repo = true;
                            auto s = check.String(r, "source.repo");
                            if (!s) return;
                            if (!UrlUserinfo(*s).empty() &&
                                (s->rfind("http://", 0) == 0 || s->rfind("https://", 0) == 0)) {
                              // Not quoted: the userinfo may be a token.
                              check.Error(r,
                                          "source.repo carries credentials before its host; "
                                          "put the token in a file named by "
                                          "GITDISC_GIT_TOKEN_FILE instead");
                              return;
                            }
                            cfg.source.repo = *s;
                          }},
                         {"branch",
                          [&](const YAML::Node&, const YAML::Node& b) {
                            auto s = check.String(b, "source.branch");
                            if (!s) return;
                            if (s->rfind("refs/", 0) == 0 || s->find("..") != std::string::npos ||
                                s->find_first_of(" ~^:?*[\\") != std::string::npos) {
                              check.Error(b, "source.branch: '" + *s +
                                                 "' is not a branch name (write e.g. main)");
                              return;
                            }
                            cfg.source.branch = *s;
                          }},
                         {"path",
                          [&](const YAML::Node&, const YAML::Node& p) {
                            if (auto s = check.String(p, "source.path")) cfg.source.path = *s;
                          }},
                         {"verify",
                          [&](const YAML::Node&, const YAML::Node& x) {
                            ParseVerify(check, x, file_name, &cfg.source.verify);
                          }},
                         {"pullRequests",
                          [&](const YAML::Node&, const YAML::Node& x) {
                            if (!x.IsScalar() || (x.Scalar() != "true" && x.Scalar() != "false")) {
                              check.Error(x, "source.pullRequests must be true or false");
                              return;
                            }
                            cfg.source.pull_requests = x.Scalar() == "true";
                          }},
                         {"interval",
                          [&](const YAML::Node&, const YAML::Node& i) {
                            auto s = check.String(i, "source.interval");
                            if (!s) return;
                            auto d = ParseDuration(*s);
                            if (!d.ok()) {
                              check.Error(i, "source.interval: " + d.status().message());
                            } else if (*d < std::chrono::seconds(1)) {
                              check.Error(i, "source.interval must be at least 1s");
                            } else {
                              cfg.source.interval = *d;
                            }
                          }},
                     })) {
               return;
             }
             if (!has_repo) check.Error(v, "source: 'repo' is required");
           }},
          {"connections",
           [&](const YAML::Node&, const YAML::Node& v) {
             if (!v.IsSequence() || v.size() == 0) {
               check.Error(v, "connections must be a non-empty list of libvirt or vsphere:// URIs");
               return;
             }
             cfg.connections.clear();
             std::set<std::string> seen;
             for (const auto& c : v) {
               auto s = check.String(c, "a connection");
               if (!s) continue;
               if (!seen.insert(*s).second) {
                 check.Error(c, "duplicate connection '" + *s + "'");
                 continue;
               }
               cfg.connections.push_back(*s);
             }
           }},
          {"stateDir",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto s = check.String(v, "stateDir");
             if (!s) return;
             if ((*s)[0] != '/') {
               check.Error(v, "stateDir must be an absolute path");
               return;
             }
             cfg.state_dir = *s;
           }},
          {"listen",
           [&](const YAML::Node&, const YAML::Node& v) {
             auto s = check.String(v, "listen");
             if (!s) return;
             if (!s->empty() && (*s)[0] == ':') {
               check.Error(v, "listen: '" + *s +
                                  "' names no host; write 127.0.0.1" + *s +
                                  " (this machine only) or 0.0.0.0" + *s +
                                  " (every address, behind a firewall or proxy)");
             } else if (!ParseListen(*s, &cfg.listen_host, &cfg.listen_port)) {
               check.Error(v, "listen: '" + *s + "' is not HOST:PORT (e.g. 127.0.0.1:9420)");
             }
           }},
          {"webhooks",
           [&](const YAML::Node&, const YAML::Node& v) {
             check.Map(v, "webhooks",
                       {
                           {"github",
                            [&](const YAML::Node&, const YAML::Node& g) {
                              secret_block(g, "webhooks.github", "secretFile", &cfg.github_secret);
                            }},
                           {"gitlab",
                            [&](const YAML::Node&, const YAML::Node& g) {
                              secret_block(g, "webhooks.gitlab", "tokenFile", &cfg.gitlab_token);
                            }},
                           {"generic",
                            [&](const YAML::Node&, const YAML::Node& g) {
                              secret_block(g, "webhooks.generic", "secretFile",
                                           &cfg.generic_secret);
                            }},
                       });
           }},
          {"api",
           [&](const YAML::Node&, const YAML::Node& v) {
             bool any = false;
             if (!check.Map(v, "api",
                            {{"tokenFile",
                              [&](const YAML::Node&, const YAML::Node& f) {
                                any = true;
                                secret(f, "api.tokenFile", &cfg.api_token);
                              }},
                             {"readTokenFile",
                              [&](const YAML::Node&, const YAML::Node& f) {
                                any = true;
                                secret(f, "api.readTokenFile", &cfg.read_token);
                              }}})) {
               return;
             }
             if (!any) check.Error(v, "api: 'tokenFile' or 'readTokenFile' is required");
           }},
          {"allowedHosts",
           [&](const YAML::Node&, const YAML::Node& v) { ParseAllowedHosts(check, v, &cfg); }},
          {"artifacts",
           [&](const YAML::Node&, const YAML::Node& v) {
             ParseArtifacts(check, v, file_name, &cfg.artifacts);
           }},
          {"cache", [&](const YAML::Node&, const YAML::Node& v) { ParseCache(check, v, &cfg); }},
          {"notify",
           [&](const YAML::Node&, const YAML::Node& v) {
             ParseNotify(check, v, file_name, &cfg.notify);
           }},
      });
  if (root.IsMap() && !has_source) check.Error(root, "'source' is required");

  result.diagnostics = check.Take();
  if (result.diagnostics.empty()) result.config = std::move(cfg);
  return result;
}

ServeConfigResult LoadServeConfig(const std::string& path) {
  auto text = ReadFile(path, kMaxConfigBytes);
  if (!text.ok()) {
    ServeConfigResult r;
    specs::Diagnostic d;
    d.pos.file = path;
    d.message = text.status().message();
    r.diagnostics.push_back(std::move(d));
    return r;
  }
  return ParseServeConfig(*text, path);
}

}  // namespace gitdisc::serve
