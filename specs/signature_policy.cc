#include "specs/signature_policy.h"

#include <algorithm>
#include <utility>

#include "base/file_util.h"
#include "specs/gpg_signature.h"
#include "specs/ssh_signature.h"

namespace gitdisc::specs {
namespace {

constexpr size_t kMaxAnchors = 16;
constexpr size_t kMaxCommitsPerRevision = 1000;
constexpr size_t kMaxRememberedVerdicts = 20'000;

std::string_view Armor(std::string_view signature) {
  size_t first = signature.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view() : signature.substr(first);
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::vector<std::string> ReadAnchors(const std::string& file) {
  std::vector<std::string> out;
  if (file.empty()) return out;
  auto text = ReadFile(file, 64 * 1024);
  if (!text.ok()) return out;
  size_t pos = 0;
  while (pos < text->size() && out.size() < kMaxAnchors) {
    size_t nl = text->find('\n', pos);
    std::string line = text->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text->size() : nl + 1;
    // Only full SHA-1 ids: a damaged file hides nothing it should not.
    if (line.size() == 40 && std::all_of(line.begin(), line.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

SignaturePolicy::SignaturePolicy(VerifyOptions options) : options_(std::move(options)) {}
SignaturePolicy::~SignaturePolicy() = default;

Result<std::unique_ptr<SignaturePolicy>> SignaturePolicy::Open(const VerifyOptions& options,
                                                               std::string anchor_file) {
  std::unique_ptr<SignaturePolicy> p(new SignaturePolicy(options));
  if (!options.allowed_signers_file.empty()) {
    GITDISC_ASSIGN_OR_RETURN(AllowedSigners signers,
                             AllowedSigners::Load(options.allowed_signers_file));
    p->ssh_ = std::make_unique<SshSignatureVerifier>(std::move(signers));
  }
  if (!options.gpg_keyring_file.empty()) {
    GITDISC_ASSIGN_OR_RETURN(p->gpg_, GpgSignatureVerifier::Open(options.gpg_keyring_file));
  }
  p->anchor_file_ = std::move(anchor_file);
  p->anchors_ = ReadAnchors(p->anchor_file_);
  return p;
}

Result<SignatureVerdict> SignaturePolicy::VerifyCommit(const GitRepository& repo,
                                                       const std::string& sha) {
  if (auto it = verdicts_.find(sha); it != verdicts_.end()) return it->second;
  GITDISC_ASSIGN_OR_RETURN(CommitSignatureData data, repo.Signature(sha));
  SignatureVerdict v;
  v.commit = data.commit;
  std::string_view armor = Armor(data.signature);
  if (armor.empty()) {
    v.problem = SignatureProblem::kUnsigned;
    v.detail = "the commit carries no signature";
  } else if (StartsWith(armor, kSshSignatureBegin)) {
    if (ssh_ != nullptr) {
      v = ssh_->Verify(data);
    } else {
      v.format = "ssh";
      v.problem = SignatureProblem::kUnsupported;
      v.detail = "SSH signature, but no allowed signers file is configured";
    }
  } else if (StartsWith(armor, kPgpSignatureBegin)) {
    if (gpg_ != nullptr) {
      v = gpg_->Verify(data);
    } else {
      v.format = "openpgp";
      v.problem = SignatureProblem::kUnsupported;
      v.detail = "OpenPGP signature, but no OpenPGP keyring is configured";
    }
  } else {
    v.format = StartsWith(armor, "-----BEGIN SIGNED MESSAGE-----") ? "x509" : "unknown";
    v.problem = SignatureProblem::kUnsupported;
    v.detail = "a signature format gitdisc does not check (" + v.format + ")";
  }
  if (!v.transient) {
    if (verdicts_.size() >= kMaxRememberedVerdicts) verdicts_.clear();
    verdicts_[sha] = v;
  }
  return v;
}

Result<SignatureVerdict> SignaturePolicy::VerifyRevision(const GitRepository& repo,
                                                         const std::string& sha) {
  // The revision itself always, with today's keys (an anchor is no excuse).
  GITDISC_ASSIGN_OR_RETURN(SignatureVerdict own, VerifyCommit(repo, sha));
  if (!own.verified() || options_.mode == VerifyMode::kTip) return own;
  auto commits = repo.CommitsBetween(sha, anchors_, kMaxCommitsPerRevision);
  if (!commits.ok()) {
    if (commits.status().code() != Status::Code::kInvalid) return commits.status();
    SignatureVerdict v;
    v.commit = sha;
    v.problem = SignatureProblem::kError;
    v.detail = commits.status().message() + "; mode all checks at most " +
               std::to_string(kMaxCommitsPerRevision) + " commits per revision";
    return v;
  }
  for (const std::string& c : *commits) {
    GITDISC_ASSIGN_OR_RETURN(SignatureVerdict v, VerifyCommit(repo, c));
    if (!v.verified()) {
      v.detail += (v.detail.empty() ? "" : " ") + std::string("(in the history since the last "
                                                              "verified revision)");
      return v;
    }
  }
  return own;
}

void SignaturePolicy::RecordVerified(const std::string& sha) {
  if (!anchors_.empty() && anchors_.front() == sha) return;
  anchors_.erase(std::remove(anchors_.begin(), anchors_.end(), sha), anchors_.end());
  anchors_.insert(anchors_.begin(), sha);
  if (anchors_.size() > kMaxAnchors) anchors_.resize(kMaxAnchors);
  if (anchor_file_.empty()) return;
  std::string text;
  for (const std::string& a : anchors_) text += a + "\n";
  size_t slash = anchor_file_.rfind('/');
  if (slash != std::string::npos) (void)MakeDirs(anchor_file_.substr(0, slash), 0700);
  // Best effort: a lost anchor costs a longer walk next time, never safety.
  (void)WriteFileAtomic(anchor_file_, text, 0600);
}

}  // namespace gitdisc::specs
