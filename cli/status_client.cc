#include "cli/status_client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace gitdisc::cli {

Result<reconciler::FleetStatus> FetchFleetStatus(const std::string& url,
                                                 std::chrono::seconds timeout) {
  // Split "scheme://host[:port][/prefix]" so a daemon behind a path prefix works.
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos ||
      (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0)) {
    return Status::Invalid("--server: '" + url + "' is not an http:// or https:// URL");
  }
  auto path_start = url.find('/', scheme_end + 3);
  std::string base = url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  httplib::Client client(base);
  if (!client.is_valid()) return Status::Invalid("--server: cannot use '" + url + "'");
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  auto res = client.Get(prefix + "/api/v1/status");
  if (!res) {
    return Status::Unavailable("cannot reach " + url + ": " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return Status::Unavailable(url + "/api/v1/status answered HTTP " + std::to_string(res->status));
  }
  nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return Status::Invalid(url + "/api/v1/status: answer is not JSON");
  auto status = reconciler::FleetStatusFromJson(j);
  if (!status.ok()) return status.status().Annotate(url + "/api/v1/status");
  return status;
}

}  // namespace gitdisc::cli
