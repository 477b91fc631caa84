#include "serve/status_page.h"

#include <ctime>
#include <map>
#include <vector>

#include "base/markup_escape.h"
#include "reconciler/status_table.h"

namespace gitdisc::serve {
namespace {

using reconciler::FleetStatus;
using reconciler::PayloadState;
using reconciler::PayloadStatus;
using reconciler::RolloutState;
using reconciler::SetStatus;
using reconciler::VmStatus;

constexpr char kStyle[] = R"CSS(
:root{--ok:#1f9d55;--busy:#2b6cb0;--warn:#c98a00;--bad:#c53030;--idle:#8795a1;--bg:#f7f8fa;--fg:#1a202c;--line:#e2e8f0}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{background:#1a202c;color:#fff;padding:14px 24px;display:flex;align-items:baseline;gap:24px;flex-wrap:wrap}
header h1{font-size:20px;margin:0;letter-spacing:.5px}
header .meta{color:#cbd5e0}
header code{background:#2d3748;color:#fff;padding:2px 6px;border-radius:4px}
main{padding:16px 24px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin-bottom:16px}
h2{font-size:15px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.6px;color:#4a5568}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-weight:600;color:#4a5568;font-size:12px}
td.cell{text-align:center;font-weight:600;color:#fff;border:2px solid #fff;border-radius:6px;min-width:70px}
.ok{background:var(--ok)}.busy{background:var(--busy)}.warn{background:var(--warn)}.bad{background:var(--bad)}.idle{background:var(--idle)}
td.none{background:#edf2f7;color:#a0aec0}
.badge{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600}
.bar{background:#edf2f7;border-radius:6px;height:12px;width:220px;overflow:hidden;display:flex}
.bar span{display:block;height:100%}
.summary{display:flex;gap:10px;flex-wrap:wrap;margin-bottom:4px}
.summary .badge{font-size:13px;padding:3px 12px}
.errors{background:#fff5f5;border-color:#feb2b2}
.errors pre{margin:0;white-space:pre-wrap;color:var(--bad)}
.msg{color:#4a5568;font-size:12px}
.legend span{margin-right:8px}
footer{color:#718096;font-size:12px;padding:0 24px 24px}
)CSS";

const char* PayloadTone(PayloadState s) {
  switch (s) {
    case PayloadState::kApplied:
      return "ok";
    case PayloadState::kApplying:
      return "busy";
    case PayloadState::kPending:
      return "idle";
    case PayloadState::kFailed:
      return "bad";
  }
  return "idle";
}

const char* PayloadSymbol(PayloadState s) {
  switch (s) {
    case PayloadState::kApplied:
      return "&#10003; applied";
    case PayloadState::kApplying:
      return "&#8635; applying";
    case PayloadState::kPending:
      return "&#8230; pending";
    case PayloadState::kFailed:
      return "&#10007; failed";
  }
  return "?";
}

std::string Short(const std::string& rev) { return rev.size() > 12 ? rev.substr(0, 12) : rev; }

std::string UtcTime(int64_t seconds) {
  if (seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string Percent(int part, int whole) {
  if (whole <= 0) return "0";
  return std::to_string(100.0 * part / whole).substr(0, 5);
}

}  // namespace

std::string RenderStatusPage(const FleetStatus& s) {
  std::string h;
  h.reserve(16 << 10);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"refresh\" content=\"10\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
       "<title>gitdisc";
  if (!s.source.branch.empty()) h += " &middot; " + EscapeMarkup(s.source.branch);
  h += "</title><style>";
  h += kStyle;
  h += "</style></head><body>\n";

  // Header: where the fleet is going.
  h += "<header><h1>gitdisc</h1><div class=\"meta\">source <code>" +
       EscapeMarkup(s.source.repo.empty() ? "-" : s.source.repo) + "</code>";
  if (!s.source.branch.empty()) h += " branch <code>" + EscapeMarkup(s.source.branch) + "</code>";
  h += "</div><div class=\"meta\">revision <code id=\"revision\">" +
       EscapeMarkup(s.source.revision.empty() ? "-" : Short(s.source.revision)) + "</code>";
  if (s.source.last_valid_revision != s.source.revision) {
    h += " acting on <code id=\"last-valid\">" +
         EscapeMarkup(s.source.last_valid_revision.empty() ? "none"
                                                         : Short(s.source.last_valid_revision)) +
         "</code>";
  }
  h += "</div><div class=\"meta\">";
  h += s.Converged() ? "<span class=\"badge ok\">converged</span>"
                     : "<span class=\"badge busy\">converging</span>";
  h += "</div></header>\n<main>\n";

  if (!s.source.spec_errors.empty()) {
    h += "<section class=\"errors\" id=\"spec-errors\"><h2>SpecInvalid at " +
         EscapeMarkup(Short(s.source.revision)) + "</h2><pre>";
    for (const auto& e : s.source.spec_errors) h += EscapeMarkup(e) + "\n";
    h += "</pre></section>\n";
  }
  if (!s.source.unverified_revision.empty()) {
    h += "<section class=\"errors\" id=\"signature-unverified\"><h2>SignatureUnverified at " +
         EscapeMarkup(Short(s.source.unverified_revision)) + "</h2><pre>commit " +
         EscapeMarkup(Short(s.source.unverified_commit)) + ": " +
         EscapeMarkup(s.source.unverified_reason) + "\nnot applied; acting on " +
         EscapeMarkup(s.source.last_valid_revision.empty() ? "none"
                                                           : Short(s.source.last_valid_revision)) +
         "</pre></section>\n";
  }

  // Condition summary.
  h += "<section><h2>Fleet</h2><div class=\"summary\">";
  for (const auto& [name, count] : s.CountByCondition()) {
    if (count == 0) continue;
    auto cond = reconciler::ParseVmCondition(name);
    const char* tone = cond.ok() ? reconciler::ConditionTone(*cond) : "idle";
    h += "<span class=\"badge " + std::string(tone) + "\">" + EscapeMarkup(name) + " " +
         std::to_string(count) + "</span>";
  }
  if (s.vms.empty()) h += "<span class=\"msg\">no VMs found</span>";
  h += "</div></section>\n";

  // Rollout per set.
  if (!s.sets.empty()) {
    h += "<section><h2>Rollout</h2><table id=\"rollout\"><tr><th>PayloadSet</th><th>Progress"
         "</th><th>Ready</th><th>Failed</th><th>In flight</th><th>State</th><th>Message</th>"
         "</tr>\n";
    for (const SetStatus& set : s.sets) {
      int total = static_cast<int>(set.selected.size());
      h += "<tr><td>" + EscapeMarkup(set.name) +
           "</td><td><div class=\"bar\"><span class=\"ok\" "
           "style=\"width:" +
           Percent(set.ready, total) +
           "%\"></span><span class=\"busy\" "
           "style=\"width:" +
           Percent(set.in_flight, total) +
           "%\"></span><span class=\"bad\" "
           "style=\"width:" +
           Percent(set.failed, total) + "%\"></span></div></td><td>" + std::to_string(set.ready) +
           "/" + std::to_string(total) + "</td><td>" + std::to_string(set.failed) + "</td><td>" +
           std::to_string(set.in_flight) + "</td><td><span class=\"badge " +
           RolloutTone(set.rollout) + "\">" + RolloutStateName(set.rollout) +
           "</span></td><td class=\"msg\">" + EscapeMarkup(set.message) + "</td></tr>\n";
    }
    h += "</table></section>\n";
  }

  // Fleet x payload matrix: columns in order of first appearance.
  std::vector<std::string> columns;
  std::map<std::string, bool> known;
  for (const VmStatus& v : s.vms) {
    for (const PayloadStatus& p : v.payloads) {
      if (!known[p.name]) {
        known[p.name] = true;
        columns.push_back(p.name);
      }
    }
  }
  h += "<section><h2>VMs &times; payloads</h2><table id=\"matrix\"><tr><th>VM</th><th>Host</th>"
       "<th>Condition</th>";
  for (const auto& c : columns) h += "<th>" + EscapeMarkup(c) + "</th>";
  h += "<th>Message</th></tr>\n";
  for (const VmStatus& v : s.vms) {
    h += "<tr data-vm=\"" + EscapeMarkup(v.name) + "\"><td><b>" + EscapeMarkup(v.name) +
         "</b></td><td class=\"msg\">" + EscapeMarkup(v.host) + "</td><td><span class=\"badge " +
         reconciler::ConditionTone(v.condition) + "\" title=\"" + EscapeMarkup(v.reason) + "\">" +
         reconciler::VmConditionName(v.condition) + "</span></td>";
    for (const auto& c : columns) {
      const PayloadStatus* found = nullptr;
      for (const PayloadStatus& p : v.payloads) {
        if (p.name == c) found = &p;
      }
      if (!found) {
        h += "<td class=\"cell none\" data-payload=\"" + EscapeMarkup(c) + "\">&mdash;</td>";
        continue;
      }
      h += "<td class=\"cell " + std::string(PayloadTone(found->state)) + "\" data-payload=\"" +
           EscapeMarkup(c) + "\" data-state=\"" + reconciler::PayloadStateName(found->state) +
           "\" title=\"" +
           EscapeMarkup(found->name + " " + found->version +
                      (found->message.empty() ? "" : ": " + found->message)) +
           "\">" + PayloadSymbol(found->state) + "</td>";
    }
    h += "<td class=\"msg\">" + EscapeMarkup(v.message) + "</td></tr>\n";
  }
  h += "</table>";
  h += "<p class=\"legend msg\"><span class=\"badge ok\">applied</span><span class=\"badge "
       "busy\">applying</span><span class=\"badge idle\">pending</span><span class=\"badge "
       "bad\">failed</span></p></section>\n";

  // Recent events, newest first.
  h += "<section><h2>Recent events</h2><table id=\"events\"><tr><th>Time (UTC)</th><th>Type</th>"
       "<th>Object</th><th>Reason</th><th>Message</th></tr>\n";
  int shown = 0;
  for (auto it = s.events.rbegin(); it != s.events.rend() && shown < 30; ++it, ++shown) {
    h += "<tr><td>" + UtcTime(it->time_unix) + "</td><td><span class=\"badge " +
         (it->type == "Warning" ? "warn" : "ok") + "\">" + EscapeMarkup(it->type) +
         "</span></td><td>" + EscapeMarkup(it->object) + "</td><td>" + EscapeMarkup(it->reason) +
         "</td><td class=\"msg\">" + EscapeMarkup(it->message) + "</td></tr>\n";
  }
  if (s.events.empty()) h += "<tr><td colspan=\"5\" class=\"msg\">no events yet</td></tr>\n";
  h += "</table></section>\n</main>\n<footer>generated " + UtcTime(s.generated_unix) +
       " &middot; refreshes every 10 s &middot; <a href=\"/api/v1/status\">JSON</a> &middot; "
       "<a href=\"/metrics\">metrics</a></footer>\n</body></html>\n";
  return h;
}

}  // namespace gitdisc::serve
