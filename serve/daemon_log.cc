#include "serve/daemon_log.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace gitdisc::serve {
namespace {

const char* LevelName(LogLevel l, bool upper) {
  switch (l) {
    case LogLevel::kDebug:
      return upper ? "DEBUG" : "debug";
    case LogLevel::kInfo:
      return upper ? "INFO" : "info";
    case LogLevel::kWarning:
      return upper ? "WARN" : "warning";
    case LogLevel::kError:
      return upper ? "ERROR" : "error";
  }
  return "?";
}

// key=value, quoting values with spaces, quotes, '=' or control characters.
std::string TextValue(const std::string& v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) quote = true;
  }
  if (!quote) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string DaemonLog::Format(LogLevel level, std::string_view msg, const LogFields& fields) const {
  std::string ts = FormatTimestamp(clock_->WallNow());
  if (format_ == LogFormat::kJson) {
    nlohmann::json j;
    j["ts"] = ts;
    j["level"] = LevelName(level, false);
    j["msg"] = std::string(msg);
    nlohmann::json f = nlohmann::json::object();
    for (const auto& [k, v] : fields) f[k] = v;
    j["fields"] = std::move(f);
    // Invalid UTF-8 from a peer must not make the logger throw.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = ts + " " + LevelName(level, true) + " " + std::string(msg);
  for (const auto& [k, v] : fields) line += " " + k + "=" + TextValue(v);
  return line;
}

void DaemonLog::Log(LogLevel level, std::string_view msg, const LogFields& fields) {
  if (level == LogLevel::kDebug && !verbose_) return;
  std::string line = Format(level, msg, fields);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  *out_ << line << std::flush;
}

}  // namespace gitdisc::serve
