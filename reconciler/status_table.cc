#include "reconciler/status_table.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace gitdisc::reconciler {
namespace {

const char* AnsiFor(std::string_view tone) {
  if (tone == "ok") return "\033[32m";
  if (tone == "busy") return "\033[36m";
  if (tone == "warn") return "\033[33m";
  if (tone == "bad") return "\033[31m";
  return "\033[2m";
}

std::string Short(const std::string& rev) { return rev.size() > 12 ? rev.substr(0, 12) : rev; }

// Columns padded to the widest cell; `tones` colours whole cells without
// counting escape codes in the width.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row, int tone_col = -1, const char* tone = nullptr) {
    rows_.push_back(std::move(row));
    tones_.push_back({tone_col, tone});
  }
  std::string Render(bool color) const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], r[i].size());
      }
    }
    std::string out;
    for (size_t ri = 0; ri < rows_.size(); ++ri) {
      const auto& r = rows_[ri];
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        std::string cell = r[i];
        bool last = i + 1 == r.size();
        std::string pad = last ? "" : std::string(width[i] - cell.size() + 2, ' ');
        if (color && ri == 0) {
          cell = "\033[1m" + cell + "\033[0m";
        } else if (color && ri > 0 && tones_[ri - 1].first == static_cast<int>(i)) {
          cell = std::string(AnsiFor(tones_[ri - 1].second)) + cell + "\033[0m";
        }
        line += cell + pad;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::pair<int, const char*>> tones_;
};

}  // namespace

const char* RolloutTone(RolloutState s) {
  switch (s) {
    case RolloutState::kComplete:
      return "ok";
    case RolloutState::kProgressing:
      return "busy";
    case RolloutState::kHalted:
      return "bad";
    case RolloutState::kSuspended:
      return "idle";
  }
  return "idle";
}

const char* ConditionTone(VmCondition c) {
  switch (c) {
    case VmCondition::kReady:
      return "ok";
    case VmCondition::kProgressing:
      return "busy";
    case VmCondition::kWaiting:
    case VmCondition::kPending:
    case VmCondition::kDriveBusy:
    case VmCondition::kAgentUnavailable:
    case VmCondition::kSuspended:
      return "warn";
    case VmCondition::kFailed:
    case VmCondition::kAgentMisbehaving:
    case VmCondition::kConflict:
    case VmCondition::kNotManageable:
    case VmCondition::kHalted:
    case VmCondition::kError:
      return "bad";
    case VmCondition::kNotSelected:
    case VmCondition::kUnknown:
      return "idle";
  }
  return "idle";
}

std::string RenderFleetTable(const FleetStatus& s, bool color) {
  std::string out;
  const SourceStatus& src = s.source;
  out += "source    " + (src.repo.empty() ? std::string("-") : src.repo);
  if (!src.branch.empty()) out += " (" + src.branch + ")";
  out += "\nrevision  " + (src.revision.empty() ? std::string("-") : Short(src.revision));
  if (src.last_valid_revision != src.revision) {
    out +=
        "  (acting on " +
        (src.last_valid_revision.empty() ? std::string("none") : Short(src.last_valid_revision)) +
        ")";
  }
  out += "\n";
  if (!src.spec_errors.empty()) {
    std::string label = "SpecInvalid";
    if (color) label = std::string(AnsiFor("bad")) + label + "\033[0m";
    out += label + " at " + Short(src.revision) + ":\n";
    for (const auto& e : src.spec_errors) out += "  " + e + "\n";
  }
  if (!src.unverified_revision.empty()) {
    std::string label = "SignatureUnverified";
    if (color) label = std::string(AnsiFor("bad")) + label + "\033[0m";
    out += label + " at " + Short(src.unverified_revision) + ": commit " +
           Short(src.unverified_commit) + ": " + src.unverified_reason + "\n";
  }
  out += "\n";

  if (s.vms.empty()) {
    out += "no VMs found\n";
  } else {
    bool many_hosts = false;
    for (const VmStatus& v : s.vms) many_hosts |= v.host != s.vms.front().host;
    std::vector<std::string> header = {"VM"};
    if (many_hosts) header.push_back("HOST");
    for (const char* h : {"CONDITION", "PAYLOADS", "REASON", "MESSAGE"}) header.push_back(h);
    Table t(header);
    for (const VmStatus& v : s.vms) {
      int applied = 0;
      for (const PayloadStatus& p : v.payloads) applied += p.state == PayloadState::kApplied;
      std::vector<std::string> row = {v.name};
      if (many_hosts) row.push_back(v.host);
      int cond_col = static_cast<int>(row.size());
      row.push_back(VmConditionName(v.condition));
      row.push_back(v.payloads.empty()
                        ? std::string("-")
                        : std::to_string(applied) + "/" + std::to_string(v.payloads.size()));
      row.push_back(v.reason.empty() ? "-" : v.reason);
      row.push_back(v.message);
      t.Add(std::move(row), cond_col, ConditionTone(v.condition));
    }
    out += t.Render(color);
  }

  if (!s.sets.empty()) {
    out += "\n";
    Table t({"SET", "READY", "FAILED", "IN FLIGHT", "ROLLOUT", "MESSAGE"});
    for (const SetStatus& set : s.sets) {
      t.Add({set.name, std::to_string(set.ready) + "/" + std::to_string(set.selected.size()),
             std::to_string(set.failed), std::to_string(set.in_flight),
             RolloutStateName(set.rollout), set.message},
            4, RolloutTone(set.rollout));
    }
    out += t.Render(color);
  }
  return out;
}

}  // namespace gitdisc::reconciler
