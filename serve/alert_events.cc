#include "serve/alert_events.h"

#include <algorithm>
#include <array>
#include <vector>

namespace gitdisc::serve {
namespace {

constexpr std::array<std::string_view, 24> kEvents = {
    "AgentCutOff",      "AgentMisbehaving", "AgentUnavailable", "ApplyFailed",
    "ApplySucceeded",   "Conflict",         "Converged",        "Drifted",
    "DriveBusy",        "Error",            "EventsUnavailable", "Failed",
    "FirstInsert",      "Halted",           "NotManageable",    "PassFailed",
    "PinsUnreadable",   "Progressing",      "Ready",            "SignatureUnverified",
    "SourceChanged",    "SpecInvalid",      "StepFailed",       "Suspended",
};

}  // namespace

bool IsAlertEvent(std::string_view name) {
  return std::find(kEvents.begin(), kEvents.end(), name) != kEvents.end();
}

std::string AlertEventList() {
  std::vector<std::string_view> sorted(kEvents.begin(), kEvents.end());
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (std::string_view n : sorted) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace gitdisc::serve
