#include "providers/provider.h"

namespace gitdisc {

bool IsDriveBusy(const Status& status) {
  return status.code() == Status::Code::kConflict &&
         status.message().find(kDriveBusy) != std::string::npos;
}

const DriveInfo* VmInfo::FindDrive(std::string_view target) const {
  for (const DriveInfo& d : cdroms) {
    if (d.target == target) return &d;
  }
  return nullptr;
}

const char* PowerStateName(VmInfo::PowerState state) {
  switch (state) {
    case VmInfo::kRunning:
      return "running";
    case VmInfo::kPaused:
      return "paused";
    case VmInfo::kShutoff:
      return "shutoff";
    case VmInfo::kOther:
      return "other";
  }
  return "other";
}

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kLifecycle:
      return "lifecycle";
    case EventKind::kTrayChanged:
      return "tray-changed";
    case EventKind::kDiskChanged:
      return "disk-changed";
    case EventKind::kMetadata:
      return "metadata";
    case EventKind::kHostLost:
      return "host-lost";
  }
  return "unknown";
}

bool IsRemoteUri(std::string_view uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = uri.substr(0, scheme_end);
  size_t plus = scheme.find('+');
  if (plus != std::string_view::npos) return scheme.substr(plus + 1) != "unix";
  std::string_view rest = uri.substr(scheme_end + 3);
  size_t host_end = rest.find_first_of("/?");
  return !rest.substr(0, host_end).empty();
}

std::string MakeVmKey(std::string_view host, std::string_view uuid) {
  std::string key(host);
  key += '/';
  key += uuid;
  return key;
}

Status SplitVmKey(std::string_view key, std::string* host, std::string* uuid) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == key.size()) {
    return Status::Invalid("bad VM key '" + std::string(key) + "' (want <uri>/<uuid>)");
  }
  *host = std::string(key.substr(0, slash));
  *uuid = std::string(key.substr(slash + 1));
  return Status::Ok();
}

// Defaults for providers that have no definitions to edit and no pool.

Result<PrepareVmResult> Provider::PrepareVm(const std::string& key, const PrepareVmOptions&) {
  return Status::Invalid("PrepareVm " + key + ": this provider cannot edit VM definitions");
}

Result<std::vector<PoolImage>> Provider::ListPoolImages(const std::string&) {
  return std::vector<PoolImage>{};
}

Status Provider::DeletePoolImage(const std::string& host, const std::string& digest) {
  return Status::NotFound("DeletePoolImage: " + host + " has no gitdisc pool (image " + digest +
                          ")");
}

}  // namespace gitdisc
