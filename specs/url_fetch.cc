#include "specs/url_fetch.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/ascii.h"
#include "base/file_util.h"
#include "base/url_text.h"

namespace gitdisc::specs {
namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string scheme;  // "http" or "https"
  std::string origin;  // scheme://host[:port]
  std::string path;    // "/..." with query, without fragment
};

std::optional<Target> Split(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  Target t;
  t.scheme = AsciiLower(url.substr(0, scheme_end));
  size_t path_start = url.find_first_of("/?#", scheme_end + 3);
  t.origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  t.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  t.path = t.path.substr(0, t.path.find('#'));
  if (t.path.empty() || t.path[0] != '/') t.path = "/" + t.path;
  if (t.origin.size() == scheme_end + 3) return std::nullopt;  // no host
  return t;
}

// Where a redirect leads: an absolute URL, a scheme-relative one, or a path.
std::string Resolve(const Target& from, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.rfind("//", 0) == 0) return from.scheme + ":" + location;
  if (!location.empty() && location[0] == '/') return from.origin + location;
  std::string dir = from.path.substr(0, from.path.find('?'));
  return from.origin + dir.substr(0, dir.rfind('/') + 1) + location;
}

// Stops `client` when the deadline passes (a blocked read returns at once).
class Watchdog {
 public:
  Watchdog(httplib::Client* client, Clock::time_point deadline)
      : thread_([this, client, deadline] {
          std::unique_lock<std::mutex> l(mu_);
          if (!cv_.wait_until(l, deadline, [this] { return done_; })) {
            fired_ = true;
            client->stop();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> l(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

struct Hop {
  int status = 0;
  std::string location;
  Status failure;  // from the sink or a bound
  bool transport_ok = true;
  std::string transport_error;
  bool timed_out = false;
};

Hop GetOnce(const Target& t, const UrlFetchOptions& o, Clock::time_point deadline,
            const std::string& what, const UrlSink& sink) {
  Hop hop;
  httplib::Client client(t.origin);
  auto left = [&] {
    return std::max<long long>(
        1, std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count());
  };
  client.set_follow_location(false);
  client.set_connection_timeout(std::min<long long>(o.connect_timeout.count(), left()), 0);
  client.set_read_timeout(std::min<long long>(o.read_timeout.count(), left()), 0);
  if (t.scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (PathExists("/etc/ssl/certs/ca-certificates.crt")) {
      client.set_ca_cert_path("/etc/ssl/certs/ca-certificates.crt");
    }
  }
  uint64_t total = 0;
  Watchdog watchdog(&client, deadline);
  auto res = client.Get(
      t.path, httplib::Headers{},
      [&](const httplib::Response& r) {
        hop.status = r.status;
        if (r.status >= 300 && r.status < 400) {
          hop.location = r.get_header_value("Location");
          return false;
        }
        if (r.status != 200) return false;
        if (r.has_header("Content-Length") &&
            std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10) >
                o.max_bytes) {
          hop.failure = Status::Invalid(what + ": the server announces more than the limit of " +
                                        std::to_string(o.max_bytes) + " bytes");
          return false;
        }
        return true;
      },
      [&](const char* data, size_t n) {
        if (Clock::now() >= deadline) return false;  // the watchdog says why
        total += n;
        if (total > o.max_bytes) {
          hop.failure = Status::Invalid(what + ": more than the limit of " +
                                        std::to_string(o.max_bytes) + " bytes");
          return false;
        }
        hop.failure = sink(data, n);
        return hop.failure.ok();
      });
  hop.timed_out = watchdog.fired() || Clock::now() >= deadline;
  if (!res && res.error() != httplib::Error::Canceled) {
    hop.transport_ok = false;
    hop.transport_error = httplib::to_string(res.error());
  }
  return hop;
}

Status CheckScheme(const Target& t, const UrlFetchOptions& o, const std::string& what) {
  if (t.scheme == "https") return Status::Ok();
  if (t.scheme == "http" && o.allow_http) return Status::Ok();
  if (t.scheme == "http") {
    return Status::Invalid(what + ": plain http:// is not allowed (use https://, or allow it "
                                  "with artifacts.allowHttp or --allow-http-artifacts)");
  }
  return Status::Invalid(what + ": only https:// (and, when allowed, http://) URLs are fetched");
}

}  // namespace

Status FetchUrl(const std::string& url, const UrlFetchOptions& o, const UrlSink& sink) {
  const std::string what = "url: artifact " + RedactUrl(url);
  if (!UrlUserinfo(url).empty()) {
    return Status::Invalid(what + ": credentials before the host are not allowed in a URL");
  }
  auto first = Split(url);
  if (!first) return Status::Invalid(what + ": not a URL");
  GITDISC_RETURN_IF_ERROR(CheckScheme(*first, o, what));
  const Clock::time_point deadline = Clock::now() + o.total_timeout;
  Target t = *first;
  for (int hops = 0;; ++hops) {
    Hop hop = GetOnce(t, o, deadline, what, sink);
    if (hop.timed_out) {
      return Status::Timeout(what + ": not complete within " +
                             std::to_string(o.total_timeout.count()) + " s");
    }
    if (!hop.failure.ok()) return hop.failure;
    if (hop.status >= 300 && hop.status < 400 && !hop.location.empty()) {
      if (hops >= o.max_redirects) {
        return Status::Invalid(what + ": more than " + std::to_string(o.max_redirects) +
                               " redirects");
      }
      std::string next_url = Resolve(t, hop.location);
      auto next = Split(next_url);
      if (!next || next->scheme != first->scheme || !UrlUserinfo(next_url).empty()) {
        return Status::Invalid(what + ": redirected to " +
                               (next ? RedactUrl(next_url) : std::string("an invalid URL")) +
                               "; only redirects within " + first->scheme + ":// are followed");
      }
      t = *next;
      continue;
    }
    if (hop.status == 404) return Status::NotFound(what + ": HTTP 404");
    if (hop.status >= 500) return Status::Unavailable(what + ": HTTP " + std::to_string(hop.status));
    if (hop.status != 0 && hop.status != 200) {
      return Status::Invalid(what + ": HTTP " + std::to_string(hop.status));
    }
    if (!hop.transport_ok) {
      return Status::Unavailable(what + ": download failed: " + hop.transport_error);
    }
    return Status::Ok();
  }
}

}  // namespace gitdisc::specs
