#include "specs/spec_types.h"

namespace gitdisc::specs {

std::string Diagnostic::ToString() const {
  std::string out = pos.file.empty() ? std::string("<input>") : pos.file;
  if (pos.line > 0) {
    out += ":" + std::to_string(pos.line);
    if (pos.column > 0) out += ":" + std::to_string(pos.column);
  }
  out += severity == Severity::kError ? ": error: " : ": warning: ";
  out += message;
  return out;
}

int CountOrPercent::Resolve(int total) const {
  if (!percent) return value;
  int n = static_cast<int>(static_cast<long long>(total) * value / 100);
  return (n < 1 && value > 0) ? 1 : n;
}

const char* SelectorOpName(SelectorOp op) {
  switch (op) {
    case SelectorOp::kIn: return "In";
    case SelectorOp::kNotIn: return "NotIn";
    case SelectorOp::kExists: return "Exists";
    case SelectorOp::kDoesNotExist: return "DoesNotExist";
  }
  return "?";
}

const char* RebootPolicyName(RebootPolicy p) {
  switch (p) {
    case RebootPolicy::kNever: return "never";
    case RebootPolicy::kIfRequested: return "ifRequested";
    case RebootPolicy::kAlways: return "always";
  }
  return "?";
}

bool IsUnpacked(const PayloadSource& source) {
  if (const auto* f = std::get_if<FileSource>(&source)) return f->unpack;
  if (const auto* u = std::get_if<UrlSource>(&source)) return u->unpack;
  return false;
}

}  // namespace gitdisc::specs
