#include "specs/signature_verdict.h"

namespace gitdisc::specs {

const char* SignatureProblemName(SignatureProblem p) {
  switch (p) {
    case SignatureProblem::kNone:
      return "verified";
    case SignatureProblem::kUnsigned:
      return "unsigned";
    case SignatureProblem::kUnknownKey:
      return "unknown key";
    case SignatureProblem::kBadSignature:
      return "bad signature";
    case SignatureProblem::kNamespace:
      return "namespace";
    case SignatureProblem::kUnsupported:
      return "unsupported";
    case SignatureProblem::kError:
      return "error";
  }
  return "error";
}

std::string SignatureVerdict::Reason() const {
  std::string out = SignatureProblemName(problem);
  if (verified() && !signer.empty()) out += " (" + signer + ")";
  if (!detail.empty()) out += ": " + detail;
  return out;
}

}  // namespace gitdisc::specs
