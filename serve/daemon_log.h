// DaemonLog: the structured log of `gitdisc serve`. One line per record:
// for people on a TTY
//   2026-11-24T23:59:01.123Z INFO webhook accepted provider=github delivery=1f2e…
// and with --log-format json one object per line
//   {"ts":"2026-11-24T23:59:01.123Z","level":"info","msg":"webhook accepted",
//    "fields":{"provider":"github","delivery":"1f2e…"}}
// Callers never pass secrets; the daemon logs secret *file names* only.
//
// Thread-safe: a record is formatted first, then written under a mutex, so
// lines from concurrent request threads never interleave.
#ifndef GITDISC_SERVE_DAEMON_LOG_H_
#define GITDISC_SERVE_DAEMON_LOG_H_

#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace gitdisc::serve {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogFields = std::vector<std::pair<std::string, std::string>>;

class DaemonLog {
 public:
  // out and clock must outlive the log.
  DaemonLog(std::ostream* out, LogFormat format, const Clock* clock, bool verbose = false)
      : out_(out), format_(format), clock_(clock), verbose_(verbose) {}

  void Log(LogLevel level, std::string_view msg, const LogFields& fields = {});
  void Debug(std::string_view msg, const LogFields& f = {}) { Log(LogLevel::kDebug, msg, f); }
  void Info(std::string_view msg, const LogFields& f = {}) { Log(LogLevel::kInfo, msg, f); }
  void Warn(std::string_view msg, const LogFields& f = {}) { Log(LogLevel::kWarning, msg, f); }
  void Error(std::string_view msg, const LogFields& f = {}) { Log(LogLevel::kError, msg, f); }

  // One formatted record without its newline (exposed for tests).
  std::string Format(LogLevel level, std::string_view msg, const LogFields& fields) const;

 private:
  std::mutex mu_;
  std::ostream* out_;
  LogFormat format_;
  const Clock* clock_;
  bool verbose_;
};

// RFC 3339 UTC with milliseconds: "2026-11-24T23:59:01.123Z".
std::string FormatTimestamp(std::chrono::system_clock::time_point t);

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_DAEMON_LOG_H_
