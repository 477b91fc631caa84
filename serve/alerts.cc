#include "serve/alerts.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "serve/webhooks.h"

namespace gitdisc::serve {
namespace {

std::string Short(const std::string& rev) { return rev.substr(0, 12); }

// scheme://host[:port] of a URL: an incoming-webhook URL carries its secret
// in the path (Slack), so logs show only where it goes.
std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

}  // namespace

std::vector<Alert> AlertTracker::Update(const reconciler::FleetStatus& status) {
  std::vector<Alert> out;
  const std::string& revision = status.source.last_valid_revision;
  uint64_t fresh = status.events_total > seen_ ? status.events_total - seen_ : 0;
  if (fresh > status.events.size()) {
    missed_ += fresh - status.events.size();
    fresh = status.events.size();
  }
  for (size_t i = status.events.size() - fresh; i < status.events.size(); ++i) {
    const reconciler::Event& e = status.events[i];
    out.push_back(Alert{e.reason, e.type, e.object, e.message, e.time_unix, revision});
  }
  seen_ = std::max(seen_, status.events_total);

  bool converged = status.Converged() && !revision.empty() && !status.vms.empty();
  if (converged && converged_on_ != revision) {
    int ready = 0;
    for (const auto& v : status.vms) ready += v.condition == reconciler::VmCondition::kReady;
    out.push_back(Alert{"Converged", "Normal", "fleet",
                        std::to_string(ready) + (ready == 1 ? " VM" : " VMs") + " ready at " +
                            Short(revision),
                        status.generated_unix, revision});
  }
  if (converged) converged_on_ = revision;
  return out;
}

OutgoingRequest AlertRequest(const ServeConfig::AlertTarget& target, const Alert& alert,
                             const std::string& repo, const std::string& delivery) {
  std::string text = std::string(alert.type == "Warning" ? ":warning: " : "") + "gitdisc " +
                     alert.event + " " + alert.object + (alert.message.empty() ? "" : ": ") +
                     alert.message +
                     (alert.revision.empty() ? "" : " (revision " + Short(alert.revision) + ")");
  nlohmann::json body = {{"event", alert.event},     {"type", alert.type},
                         {"object", alert.object},   {"message", alert.message},
                         {"time", alert.time_unix},  {"revision", alert.revision},
                         {"repo", repo},             {"text", text}};
  OutgoingRequest r;
  r.target = "webhook";
  r.url = target.url;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers = {{"X-Signature", SignatureHeaderValue(target.secret.Reveal(), r.body)},
               {"X-Delivery-Id", delivery},
               {"X-Gitdisc-Event", alert.event}};
  r.what = "alert " + alert.event + " " + alert.object + " to " + Origin(target.url);
  return r;
}

}  // namespace gitdisc::serve
