#include "providers/libvirt_error.h"

namespace gitdisc {

bool MentionsTray(std::string_view message) {
  return message.find("tray") != std::string_view::npos ||
         message.find("Tray") != std::string_view::npos;
}

Status LibvirtError(std::string_view call, std::string_view what) {
  virErrorPtr e = virGetLastError();
  std::string msg = std::string(call);
  if (!what.empty()) msg += " " + std::string(what);
  msg += ": ";
  msg += (e && e->message) ? e->message : "unknown libvirt error";
  if (!e) return Status::Internal(msg);
  switch (e->code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_DOMAIN_METADATA:
      return Status::NotFound(msg);
    case VIR_ERR_OPERATION_INVALID:
      return Status::Conflict(msg);
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return Status::Timeout(msg);
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_AUTH_UNAVAILABLE:
      return Status::Unavailable(msg);
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_ACCESS_DENIED:
      return Status::Permission(msg);
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_CONFIG_UNSUPPORTED:
      return Status::Invalid(msg);
    default:
      break;
  }
  if (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE) return Status::Unavailable(msg);
  if (MentionsTray(msg)) return Status::Timeout(msg);
  return Status::Internal(msg);
}

}  // namespace gitdisc
